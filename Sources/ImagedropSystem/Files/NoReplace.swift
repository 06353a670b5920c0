import Glibc

/// Placing a file under a name that must not already exist — atomically, never check-then-rename:
/// `renameat2(RENAME_NOREPLACE)`, else (a filesystem without it) `link` + `unlink`, which fails with EEXIST
/// just as atomically. Nothing already at the target is ever replaced.
package enum NoReplace {
    /// The filesystem supports neither RENAME_NOREPLACE nor hard links (vfat, some network filesystems).
    package struct Unsupported: Error, CustomStringConvertible {
        package let errno: Int32
        package var description: String {
            "the destination filesystem cannot rename without replacing (errno \(errno))"
        }
    }

    private typealias RenameAt2 =
        @convention(c) (Int32, UnsafePointer<CChar>?, Int32, UnsafePointer<CChar>?, UInt32) -> Int32
    /// glibc ≥ 2.28 has renameat2, but Swift's Glibc module does not import it (it is behind _GNU_SOURCE).
    private static let renameat2: RenameAt2? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2")
        .map { unsafeBitCast($0, to: RenameAt2.self) }
    private static let renameNoReplaceFlag: UInt32 = 1  // RENAME_NOREPLACE

    /// Moves `source` to `target` unless `target` exists. True when moved, false when the name is taken.
    /// Throws SystemError (EXDEV: another filesystem) or, for a regular file on a filesystem that can do
    /// neither, `Unsupported` (the caller then copies with O_EXCL).
    package static func rename(_ source: RawPath, to target: RawPath, regularFile: Bool) throws -> Bool {
        if let renameat2 {
            let rc = source.withCString { from in
                target.withCString { to in
                    renameat2(AT_FDCWD, from, AT_FDCWD, to, renameNoReplaceFlag)
                }
            }
            if rc == 0 { return true }
            let error = SystemError(call: "renameat2")
            if error.errno == EEXIST { return false }
            guard [EINVAL, ENOSYS, ENOTSUP, EOPNOTSUPP].contains(error.errno) else { throw error }
        }
        let rc = source.withCString { from in target.withCString { to in link(from, to) } }
        if rc != 0 {
            let error = SystemError(call: "link")
            if error.errno == EEXIST { return false }
            if regularFile, [EPERM, ENOTSUP, EOPNOTSUPP, EMLINK].contains(error.errno) {
                throw Unsupported(errno: error.errno)
            }
            throw error
        }
        let unlinked = source.withCString { unlink($0) }
        if unlinked != 0, errno != ENOENT { throw SystemError(call: "unlink") }
        return true
    }

    /// The `n`-th name tried for `path`: n = 0 is the name itself, then `IMG_0001.1.JPG`, `IMG_0001.2.JPG`…
    /// (the number before the last extension; `README.1`, `.profile.1` for names without one).
    package static func candidate(_ path: RawPath, _ n: Int) -> RawPath {
        guard n > 0 else { return path }
        let name = path.baseName
        let number = Array(".\(n)".utf8)
        var renamed: [UInt8]
        if let dot = name.lastIndex(of: UInt8(ascii: ".")), dot > 0 {
            renamed = Array(name[..<dot]) + number + Array(name[dot...])
        } else {
            renamed = name + number
        }
        return path.parent.appending(renamed)
    }

    /// Whether anything at all is at `path` (a dangling symlink counts; an unreadable folder counts too).
    package static func isTaken(_ path: RawPath) -> Bool {
        if case .failure(let error) = FileStatus.of(path, followSymlinks: false), error.errno == ENOENT { return false }
        return true
    }
}
