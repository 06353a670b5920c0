/// How the custom image id is chosen (`images.id`), in one place.
///
/// - content-hash: `id_prefix` + the 64-digit SHA-256 of the bytes. The same bytes always get the same id,
///   so a retry after a lost reply, a crash mid-upload or a second copy of a file is answered 409 and never
///   stored twice. 64 hex digits can never look like a UUID (32).
/// - path: `id_prefix` + the path relative to its watch root. The id names the file, not its content; when
///   a changed file arrives under a known path, the old image is deleted and the new one stored under the
///   same id (so the URL stays and always shows the newest version).
/// - cloudflare, or `require_signed_urls` (Cloudflare refuses custom ids on private images: 5410):
///   no custom id; the job key in the metadata finds an ambiguous upload again.
public enum ImageIDStrategy {
    public static func customID(mode: Config.IDMode, prefix: String, requireSignedURLs: Bool, sha256: String,
                                relativePath: String) -> String? {
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

    /// The path sent as `source_path` and used by path ids: relative to the watch root when inside one.
    public static func relativePath(of path: RawPath, root: RawPath?) -> String {
        if let root, let relative = path.relative(to: root) { return relative.display }
        var display = path.display
        while display.hasPrefix("/") { display.removeFirst() }
        return display
    }
}
