import Glibc
import ImagedropSystem

/// One daemon per watch folder, whatever its database: two daemons on different databases watching the same
/// folder would each upload (and move, or delete) every file. Each folder is flocked through a descriptor of
/// the folder itself — nothing is created, it works for root and other users alike, the key is the folder's
/// device and inode (however it is spelled), and the kernel drops the lock when the process dies. The other
/// holder's pid is read from /proc/locks. Filesystems without flock on folders (some NFS setups) are simply
/// not checked. Taken at start for the configured folders and again at each reload (`update`): folders a
/// reload adds are locked before the reload applies, folders it drops are released. A folder that does not
/// exist yet (waited for by the watcher) is locked at the next reload that finds it.
package final class WatchFolderLocks {
    private struct Key: Hashable {
        var device: UInt64
        var inode: UInt64
    }
    private var descriptors: [Key: Int32] = [:]

    package struct Held: Error, CustomStringConvertible, Sendable {
        package let folder: String
        package let pid: Int?
        package var description: String {
            "another imagedrop daemon\(pid.map { " (pid \($0))" } ?? "") already watches \(folder) with another database; "
                + "two daemons on one folder would upload every file twice: stop it, or watch another folder"
        }
    }

    package init(folders: [String]) throws {
        try update(folders: folders)
    }

    /// Holds exactly the locks of `folders`: all or nothing — when one is held by another daemon, the locks
    /// this call took are released again and what was held before stays held.
    package func update(folders: [String]) throws {
        var wanted: [Key: Int32] = [:]
        var taken: [Int32] = []
        func undo() { for fd in taken { close(fd) } }
        for folder in folders {
            let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else { continue }  // the watcher reports a folder it cannot open
            var info = stat()
            guard fstat(fd, &info) == 0 else {
                close(fd)
                continue
            }
            let key = Key(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
            if wanted[key] != nil || descriptors[key] != nil {
                close(fd)  // the same folder listed twice (or through a symlink), or locked already: one lock
                if let held = descriptors[key] { wanted[key] = held }
                continue
            }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let busy = errno == EWOULDBLOCK
                let holder = busy ? Self.holder(device: key.device, inode: key.inode) : nil
                close(fd)
                if busy {
                    undo()
                    throw Held(folder: folder, pid: holder)
                }
                continue
            }
            taken.append(fd)
            wanted[key] = fd
        }
        for (key, fd) in descriptors where wanted[key] == nil { close(fd) }  // folders no longer watched
        descriptors = wanted
    }

    deinit { for fd in descriptors.values { close(fd) } }

    /// The pid /proc/locks gives for a FLOCK on this inode: lines like `3: FLOCK  ADVISORY  WRITE 4242 08:02:131090 0 EOF`
    /// (major and minor in hex, the inode in decimal).
    package static func holder(device: UInt64, inode: UInt64) -> Int? {
        guard
            let text = AtomicFile.read(RawPath("/proc/locks"), limit: 4 << 20).map({
                String(decoding: $0, as: UTF8.self)
            })
        else {
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

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
