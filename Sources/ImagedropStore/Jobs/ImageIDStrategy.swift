import ImagedropParsing
import ImagedropSystem

/// How the custom image id is chosen (`images.id`), in one place.
///
/// - content-hash: `id_prefix` + the 64-digit SHA-256 of the bytes. The same bytes always get the same id,
///   so a retry after a lost reply, a crash mid-upload or a second copy of a file is answered 409 and never
///   stored twice. 64 hex digits can never look like a UUID (32).
/// - path: `id_prefix` + the path relative to its watch root. The id names the file, not its content; when
///   a changed file arrives under a known path, the old image is deleted and the new one stored under the
///   same id (so the URL stays and always shows the newest version). With more than one watch root the
///   relative path starts with the root's own name (`/srv/a/x.png` → `a/x.png`), so `/srv/a/x.png` and
///   `/srv/b/x.png` never share an id; the config loader refuses roots whose names are equal or nested.
///   A single root keeps the plain relative path (the ids of existing setups do not change).
/// - cloudflare, or `require_signed_urls` (Cloudflare refuses custom ids on private images: 5410):
///   no custom id; the job key in the metadata finds an ambiguous upload again.
package enum ImageIDStrategy {
    /// A URL job's custom id: `id_prefix` + SHA-256 of the URL text (with content-hash and path ids alike:
    /// a URL has no path under a watch root, and its text is what names it), or nil when Cloudflare chooses.
    package static func customID(forURL url: URLInput, config: Config) -> String? {
        if config.images.requireSignedURLs || config.images.idMode == .cloudflare { return nil }
        return config.images.idPrefix + url.sha256
    }

    package static func customID(
        mode: Config.IDMode, prefix: String, requireSignedURLs: Bool, sha256: String,
        relativePath: String
    ) -> String? {
        if requireSignedURLs { return nil }
        switch mode {
        case .contentHash: return prefix + sha256
        case .path:
            var path = relativePath
            while path.hasPrefix("/") { path.removeFirst() }
            return prefix + path
        case .cloudflare: return nil
        }
    }

    /// The name that tells a root's path ids apart from the other roots': its base name, when there is more
    /// than one root (one root: nil, ids unchanged).
    package static func rootLabel(of root: RawPath?, roots: [String]) -> String? {
        guard roots.count > 1, let root else { return nil }
        return RawPath(bytes: root.lexicallyNormalized.baseName).display
    }

    /// Why these watch roots cannot have path ids, or nil when they can: with more than one root, each root's
    /// name starts its ids, so names must differ and no root may lie inside another (a file would have two).
    package static func pathIDConflict(roots: [String]) -> String? {
        guard roots.count > 1 else { return nil }
        let paths = roots.map { RawPath($0).lexicallyNormalized }
        var seen: [[UInt8]: RawPath] = [:]
        for path in paths {
            if let other = paths.first(where: { $0 != path && path.isInside($0) }) {
                return
                    "\"\(path.display)\" lies inside \"\(other.display)\"; with images.id = \"path\" a file there would have two ids"
            }
            if let other = seen[path.baseName] {
                return
                    "\"\(other.display)\" and \"\(path.display)\" have the same name \"\(RawPath(bytes: path.baseName).display)\"; "
                    + "with images.id = \"path\" and several roots the root's name starts each id, so their ids would collide"
            }
            seen[path.baseName] = path
        }
        return nil
    }

    /// The path sent as `source_path` and used by path ids: relative to the watch root when inside one.
    package static func relativePath(of path: RawPath, root: RawPath?) -> String {
        if let root, let relative = path.relative(to: root) { return relative.display }
        var display = path.display
        while display.hasPrefix("/") { display.removeFirst() }
        return display
    }
}
