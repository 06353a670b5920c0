import Glibc

/// Whether any process holds a file open for writing, asked of the kernel: a read lease (`F_SETLEASE`,
/// `F_RDLCK`) is refused with EAGAIN while one does; granted, it is given back at once.
///
/// The watcher's `OpenWrites` knows only the writers whose writes it saw. A folder made and written into before
/// its watch was set (`mkdir -p` and a slow copy, a camera's new day folder) hides them: the watcher's scan of
/// the new folder finds a file whose writer has only paused, its mtime says "settled", and the first part of
/// the file would be uploaded (soak seed 1517). The kernel counts every writer.
///
/// A lease needs the file's owner or CAP_LEASE. Elsewhere — another user's file under the shipped unit
/// (`PrivateUsers=yes`), a file system without leases (NFS, FUSE) — the answer is `.unknown` and the settle
/// rule decides alone, as it did before.
package enum WriterProbe {
    package enum Answer: Equatable, Sendable {
        /// Some process has the file open for writing (or mapped writable).
        case writing
        case none
        /// The kernel would not say (EACCES, EINVAL, …).
        case unknown
    }

    /// A lease whose breaker (an open for writing in the microseconds it is held) makes the kernel signal the
    /// holder with SIGIO, whose default action ends the process. imagedrop uses no SIGIO otherwise.
    /// F_SETLEASE from <linux/fcntl.h> (F_LINUX_SPECIFIC_BASE + 0): Glibc's module leaves out the _GNU_SOURCE names.
    private static let setLease: Int32 = 1024

    private static let ignoreLeaseBreaks: Void = { _ = signal(SIGIO, SIG_IGN) }()

    /// `fd` must be open read-only: the kernel refuses a read lease on a descriptor open for writing.
    package static func writers(_ fd: Int32) -> Answer {
        _ = ignoreLeaseBreaks
        if fcntl(fd, setLease, Int32(F_RDLCK)) == 0 {
            _ = fcntl(fd, setLease, Int32(F_UNLCK))
            return .none
        }
        return errno == EAGAIN ? .writing : .unknown
    }
}
