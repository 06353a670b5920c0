import ImagedropSystem

/// The database file the daemon opened, by device and inode. SQLite keeps writing through its open
/// descriptor when the path is deleted or replaced (a restore, a stray `rm`, a config-management tool
/// writing a fresh file): every later write would vanish with the unlinked file while `status` reads the new
/// one. The main loop compares the path with what it opened on each turn and stops the daemon on a change.
package struct DatabaseIdentity {
    package let path: String
    package let device: UInt64
    package let inode: UInt64

    package init?(path: String) {
        guard case .success(let status) = FileStatus.of(RawPath(path)) else { return nil }
        self.path = path
        device = status.device
        inode = status.inode
    }

    /// nil while the path still names the opened file; else what happened to it, for the error line.
    package func change() -> String? {
        switch FileStatus.of(RawPath(path)) {
        case .failure(let error):
            return
                "database file \(path) is gone (\(error.message)): deleted or its folder moved; writes would go to the unlinked file"
        case .success(let now) where now.device != device || now.inode != inode:
            return "database file \(path) was replaced (device \(device) inode \(inode) opened, now device "
                + "\(now.device) inode \(now.inode)); writes would go to the file no longer at that path"
        case .success:
            return nil
        }
    }
}
