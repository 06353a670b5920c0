import ImagedropStore
import ImagedropSystem

/// Where an image's `source_path` (the path relative to its watch root, as imagedrop sent it) may be: under
/// each watch path of each source in scope, in config order. Only names that exist are returned; whether the
/// bytes match is the caller's question.
struct WatchRootLocator {
    private let roots: [(source: String, root: RawPath)]

    init(config: Config, source: String?) {
        roots = config.resolvedSources.filter { source == nil || $0.name == source }.flatMap { settings in
            settings.watch.paths.map { (settings.name, RawPath($0)) }
        }
    }

    func files(for sourcePath: String) -> [LocatedFile] {
        guard let relative = Self.relativePath(sourcePath) else { return [] }
        return roots.compactMap { entry in
            let path = entry.root.appending(relative)
            guard case .success(let status) = FileStatus.of(path), status.isRegular else { return nil }
            return LocatedFile(source: entry.source, root: entry.root, path: path)
        }
    }

    /// A path below a root, or nil for what cannot name one: empty, shortened to fit the metadata (it then
    /// starts with "…"), or stepping out with `..` (metadata is anyone's to write; it must not reach outside).
    static func relativePath(_ sourcePath: String) -> String? {
        var path = Substring(sourcePath)
        while path.hasPrefix("/") { path = path.dropFirst() }
        guard !path.isEmpty, !path.hasPrefix("…"), !path.contains("\0") else { return nil }
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !components.contains(where: { $0 == ".." || $0 == "." || $0.isEmpty }) else { return nil }
        return String(path)
    }
}
