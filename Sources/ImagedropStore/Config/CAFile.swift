import Glibc

/// `cloudflare.ca_file`: checked when the config loads (so `run`, `check` and SIGHUP refuse a missing or
/// unreadable bundle with one line naming the key) rather than at the first upload as a TLS error.
package enum CAFile {
    package static func validate(_ given: String, section: TOMLSection) throws -> String {
        guard !given.isEmpty else { throw section.error("ca_file", "must not be empty") }
        let path = section.resolvePath(given)
        let shown = TOMLSection.shown(given, path)
        var info = stat()
        guard stat(path, &info) == 0 else { throw section.error("ca_file", "\(shown) does not exist") }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw section.error("ca_file", "\(shown) is not a regular file")
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw section.error("ca_file", "\(shown) cannot be read: \(String(cString: strerror(errno)))")
        }
        close(descriptor)
        return path
    }
}
