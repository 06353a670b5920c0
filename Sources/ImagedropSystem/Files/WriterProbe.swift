import CFileSystem
import Glibc

/// Whether any process holds a file open for writing, asked of the kernel: a read lease (`F_SETLEASE`,
/// `F_RDLCK`) is refused with EAGAIN while one does; granted, it is given back at once.
///
/// The watcher's `OpenWrites` knows only the writers whose writes it saw. A folder made and written into before
/// its watch was set (`mkdir -p` and a slow copy, a camera's new day folder) hides them: the watcher's scan of
/// the new folder finds a file whose writer has only paused, its mtime says "settled", and the first part of
/// the file would be uploaded (soak seed 1517). The kernel counts every writer.
///
/// A lease needs the file's owner or CAP_LEASE (the shipped unit grants it), and the answer is trusted only on
/// local file systems: an NFSv4 client refuses a lease with EAGAIN whenever it holds no read delegation, and an
/// SMB client whenever it has no oplock, writer or not. Elsewhere the answer is `.unknown`, and the settle rule
/// decides alone, as it did before.
package enum WriterProbe {
    package enum Answer: Equatable, Sendable {
        /// Some process has the file open for writing (or mapped writable).
        case writing
        case none
        /// The kernel would not say (EACCES, EINVAL, a file system whose EAGAIN means something else).
        case unknown
    }

    /// F_SETLEASE from <linux/fcntl.h> (F_LINUX_SPECIFIC_BASE + 0): Glibc's module leaves out the _GNU_SOURCE names.
    private static let setLease: Int32 = 1024

    /// `statfs.f_type` of the file systems whose lease refusal means a writer: ext2/3/4, XFS, Btrfs, tmpfs,
    /// overlayfs, ZFS, F2FS, bcachefs.
    private static let localFileSystems: Set<Int> = [
        0xEF53, 0x5846_5342, 0x9123_683E, 0x0102_1994, 0x794C_7630, 0x2FC1_2FC1, 0xF2F5_2010, 0xCA45_1A4E,
    ]

    /// A lease whose breaker (an open for writing in the microseconds it is held) makes the kernel signal the
    /// holder with SIGIO, whose default action ends the process. imagedrop uses no SIGIO otherwise.
    private static let ignoreLeaseBreaks: Void = { _ = signal(SIGIO, SIG_IGN) }()

    /// `fd` must be open read-only: the kernel refuses a read lease on a descriptor open for writing.
    package static func writers(_ fd: Int32) -> Answer {
        var fileSystem = 0
        guard imagedrop_file_system_type(fd, &fileSystem) == 0, localFileSystems.contains(fileSystem) else {
            return .unknown
        }
        _ = ignoreLeaseBreaks
        if fcntl(fd, setLease, Int32(F_RDLCK)) == 0 {
            // Held, a writer's open would wait for it (up to /proc/sys/fs/lease-break-time): given back at once,
            // and once more should the first try fail.
            if fcntl(fd, setLease, Int32(F_UNLCK)) != 0 { _ = fcntl(fd, setLease, Int32(F_UNLCK)) }
            return .none
        }
        return errno == EAGAIN ? .writing : .unknown
    }
}
