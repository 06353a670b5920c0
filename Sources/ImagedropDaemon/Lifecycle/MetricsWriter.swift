import Glibc

/// Prometheus text exposition (format 0.0.4, rendered by `PipelineMetrics.exposition`) written to a file for
/// node_exporter's textfile collector (`--collector.textfile.directory`), every `[metrics] interval_s`.
///
/// Why a textfile rather than an HTTP listener: the hardened unit then opens no port at all (nothing to
/// bind, firewall or authenticate, and `RestrictAddressFamilies` stays about outbound API traffic only);
/// node_exporter already runs on most hosts that are scraped, so there is no new scrape target to
/// register; and the last figures survive a restart or crash of the daemon, while
/// `node_textfile_mtime_seconds` tells an alert when the file went stale (alert on
/// `time() - node_textfile_mtime_seconds{file=~".*imagedrop.prom"} > 3 * interval_s`).
///
/// The file is replaced atomically (temp file in the same directory, then `rename(2)`), so the collector
/// never reads half a file. The temp name does not end in `.prom`, so the collector never picks it up.
package struct MetricsWriter: Sendable {
    package let path: String

    package init(path: String) { self.path = path }

    package func write(text: String) throws {
        try replaceAtomically(with: Array(text.utf8))
    }

    private func replaceAtomically(with bytes: [UInt8]) throws {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let temp = (directory == "/" ? "" : directory) + "/.\(base).\(getpid()).tmp"

        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw MetricsWriteError(operation: "create", path: temp, errno: errno) }
        var closed = false
        defer {
            if !closed {
                close(fd)
                unlink(temp)
            }
        }
        // The unit's UMask=0027 would leave the file unreadable to node_exporter's own user.
        guard fchmod(fd, 0o644) == 0 else { throw MetricsWriteError(operation: "chmod", path: temp, errno: errno) }
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if written > 0 {
                    offset += written
                    continue
                }
                if written < 0, errno == EINTR { continue }
                throw MetricsWriteError(operation: "write", path: temp, errno: written < 0 ? errno : EIO)
            }
        }
        // No fsync: losing the latest figures in a power cut is harmless, and an fsync every interval
        // would stall on a busy disk for nothing.
        closed = true
        guard close(fd) == 0 else {
            let code = errno
            unlink(temp)
            throw MetricsWriteError(operation: "close", path: temp, errno: code)
        }
        guard rename(temp, path) == 0 else {
            let code = errno
            unlink(temp)
            throw MetricsWriteError(operation: "rename", path: path, errno: code)
        }
    }
}

/// Carries errno and the path so the log line tells ops which directory lacks write access
/// (usually `ReadWritePaths=` in the unit or the collector directory's group).
package struct MetricsWriteError: Error, CustomStringConvertible, Sendable {
    package var operation: String
    package var path: String
    package var errno: Int32

    package var description: String {
        "cannot \(operation) metrics file \(path): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}
