import Glibc

/// The page cache's copy of a binary, put in the state a daemon started at boot finds it.
///
/// How the cache got a file's pages changes the resident set of every process that maps it: Linux 6.x keeps a file
/// written with write(2) or read with read(2) in large folios, and a page fault in a mapped file maps the whole
/// folio, so a daemon started from a binary the linker (or dpkg, or `cp`) has just written, or that something has
/// read, counts up to 4.5 MiB more of its code resident than the same daemon started from the same file paged
/// in by exec's own faults (measured on this project's machine, idle: 23.2–23.6 MiB paged in by exec, 24.5–25.1 MiB
/// from a fresh copy, 27.8 MiB after a `cat` of the file; docs/benchmarks.md, ninth round). The bench measures the state after a boot.
package enum PageCache {
    /// Writes the file's dirty pages out, drops its pages from the cache (pages a running process maps stay), then
    /// runs it once with `arguments` so its pages come back through exec's faults (a first run from disk would
    /// otherwise pay the reads inside a timed scenario). Nil when done, else what kept the cache as it was: the
    /// caller measures anyway and says so.
    package static func pageInByExec(_ path: String, arguments: [String], scratch: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "cannot open \(path) to drop its cached pages (errno \(errno))" }
        fsync(fd)
        let advice = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
        close(fd)
        if advice != 0 { return "posix_fadvise on \(path) failed (\(advice))" }
        guard let run = try? ChildProcess.run(path, arguments, environment: [:], scratch: scratch), run.status == 0
        else { return "\(path) \(arguments.joined(separator: " ")) did not run" }
        return nil
    }
}
