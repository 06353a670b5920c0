import ImagedropSystem

/// Paths in the config file: a relative one means relative to the config file's own folder (systemd runs the
/// daemon in `/`, so the working directory is an accident), and an error about one shows what it resolved to.
extension TOMLSection {
    /// The config file's folder, absolute.
    package var configFolder: RawPath { RawPath.absolute(file).parent }

    /// `given` made absolute against the config file's folder, `.` and `..` folded.
    package func resolvePath(_ given: String) -> String {
        let raw = RawPath(given)
        return (raw.isAbsolute ? raw : configFolder.appending(raw.bytes)).lexicallyNormalized.display
    }

    /// A string key holding a path, resolved.
    package func path(_ key: String) throws -> String? {
        guard let given = try string(key) else { return nil }
        guard !given.isEmpty else { throw error(key, "must not be empty") }
        return resolvePath(given)
    }

    /// How an error names a path: as written, with the absolute path it means when that differs.
    package static func shown(_ given: String, _ resolved: String) -> String {
        given == resolved ? "\"\(resolved)\"" : "\"\(given)\" (resolved to \(resolved))"
    }
}
