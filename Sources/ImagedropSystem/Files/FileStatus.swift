import Glibc

/// The parts of stat(2) that tell one version of a file from another.
package struct FileStatus: Sendable, Equatable {
    package var mode: mode_t
    package var size: Int
    package var mtimeNanos: Int64
    package var ctimeNanos: Int64
    package var device: UInt64
    package var inode: UInt64

    package init(_ info: stat) {
        mode = info.st_mode
        size = Int(info.st_size)
        mtimeNanos = Self.nanos(info.st_mtim)
        ctimeNanos = Self.nanos(info.st_ctim)
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }

    /// A timestamp in nanoseconds, clamped to ±2^62 (years 1824…2116): `touch -d 2300-01-01` (or a camera
    /// with a broken clock) must not trap, and the clamp leaves room for the watcher's "now − mtime".
    package static func nanos(_ time: timespec) -> Int64 {
        let bound: Int64 = 1 << 62
        let seconds = Int64(time.tv_sec)
        guard seconds < bound / 1_000_000_000, seconds > -bound / 1_000_000_000 else {
            return seconds > 0 ? bound : -bound
        }
        return min(max(seconds * 1_000_000_000 + Int64(time.tv_nsec), -bound), bound)
    }

    package var kind: UInt32 { UInt32(mode) & UInt32(S_IFMT) }
    package var isRegular: Bool { kind == UInt32(S_IFREG) }
    package var isDirectory: Bool { kind == UInt32(S_IFDIR) }
    package var isSymlink: Bool { kind == UInt32(S_IFLNK) }

    /// "FIFO", "socket", "character device"… for "not a regular file" reasons.
    package var kindName: String {
        switch kind {
        case UInt32(S_IFIFO): return "FIFO"
        case UInt32(S_IFSOCK): return "socket"
        case UInt32(S_IFCHR): return "character device"
        case UInt32(S_IFBLK): return "block device"
        case UInt32(S_IFDIR): return "directory"
        case UInt32(S_IFLNK): return "symlink"
        default: return "regular file"
        }
    }

    /// Same content as far as the kernel can tell without reading it.
    package func sameVersion(as other: FileStatus) -> Bool {
        size == other.size && mtimeNanos == other.mtimeNanos && inode == other.inode && device == other.device
    }

    package static func of(_ path: RawPath, followSymlinks: Bool = true) -> Result<FileStatus, SystemError> {
        var info = stat()
        let rc = path.withCString { followSymlinks ? stat($0, &info) : lstat($0, &info) }
        return rc == 0 ? .success(FileStatus(info)) : .failure(SystemError(call: followSymlinks ? "stat" : "lstat"))
    }

    /// What a watcher or backfill records for a name: the file itself, or for a symlink its target (the
    /// version pre-flight will open and hash), so re-seeing an unchanged symlink is the same job. A dangling
    /// symlink, or one to a folder, keeps the link's own status (it fails pre-flight with its reason).
    package static func candidate(_ path: RawPath) -> Result<FileStatus, SystemError> {
        let link = of(path, followSymlinks: false)
        guard case .success(let status) = link, status.isSymlink,
            case .success(let target) = of(path), !target.isDirectory
        else { return link }
        return .success(target)
    }

    package static func of(fileDescriptor: Int32) -> Result<FileStatus, SystemError> {
        var info = stat()
        return fstat(fileDescriptor, &info) == 0 ? .success(FileStatus(info)) : .failure(SystemError(call: "fstat"))
    }
}
