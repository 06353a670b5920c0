import Glibc

/// One daemon per watch folder, whatever its database: two daemons on different databases watching the same
/// folder would each upload (and move, or delete) every file. Each folder is flocked through a descriptor of
/// the folder itself — nothing is created, it works for root and other users alike, the key is the folder's
/// device and inode (however it is spelled), and the kernel drops the lock when the process dies. The other
/// holder's pid is read from /proc/locks. Filesystems without flock on folders (some NFS setups) are simply
/// not checked. Taken at start for the configured folders; folders added by a reload are not locked.
public final class WatchFolderLocks {
    private var descriptors: [Int32] = []

    public struct Held: Error, CustomStringConvertible, Sendable {
        public let folder: String
        public let pid: Int?
        public var description: String {
            "another imagedrop daemon\(pid.map { " (pid \($0))" } ?? "") already watches \(folder) with another database; "
                + "two daemons on one folder would upload every file twice: stop it, or watch another folder"
        }
    }

    public init(folders: [String]) throws {
        var seen = Set<[UInt64]>()
        for folder in folders {
            let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else { continue }   // the watcher reports a folder it cannot open
            var info = stat()
            guard fstat(fd, &info) == 0, seen.insert([UInt64(info.st_dev), UInt64(info.st_ino)]).inserted else {
                close(fd)
                continue   // the same folder listed twice (or through a symlink) is one lock
            }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let busy = errno == EWOULDBLOCK
                let holder = busy ? Self.holder(device: UInt64(info.st_dev), inode: UInt64(info.st_ino)) : nil
                close(fd)
                if busy { throw Held(folder: folder, pid: holder) }
                continue
            }
            descriptors.append(fd)
        }
    }

    deinit { for fd in descriptors { close(fd) } }

    /// The pid /proc/locks gives for a FLOCK on this inode: lines like `3: FLOCK  ADVISORY  WRITE 4242 08:02:131090 0 EOF`
    /// (major and minor in hex, the inode in decimal).
    static func holder(device: UInt64, inode: UInt64) -> Int? {
        guard let text = AtomicFile.read(RawPath("/proc/locks"), limit: 4 << 20).map({ String(decoding: $0, as: UTF8.self) }) else {
            return nil
        }
        let major = ((device >> 8) & 0xFFF) | ((device >> 32) & ~UInt64(0xFFF))
        let minor = (device & 0xFF) | ((device >> 12) & ~UInt64(0xFF))
        let key = String(major, radix: 16).leftPadded(2) + ":" + String(minor, radix: 16).leftPadded(2) + ":\(inode)"
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[1] == "FLOCK", fields[5] == key else { continue }
            return Int(fields[4])
        }
        return nil
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
