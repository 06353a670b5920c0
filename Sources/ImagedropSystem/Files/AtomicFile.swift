import Glibc
import ImagedropSupport

/// Writes that are either complete or absent: a temporary file in the same folder, fsync, then a rename —
/// one that replaces (`write`, for files imagedrop owns beside the original) or one that never does
/// (`copyToTemporary` + `NoReplace.rename`, for files moved into `done_dir`/`failed_dir`). `writeNew`
/// (sidecars, error reports) links an unnamed O_TMPFILE file into place instead, where the system allows.
package enum AtomicFile {
    package static func write(_ bytes: [UInt8], to path: RawPath) throws {
        let temporary = try fill(temporaryBeside: path) { output in try writeAll(output, bytes[...]) }
        let renamed = temporary.withCString { from in path.withCString { to in rename(from, to) } }
        guard renamed == 0 else {
            let error = SystemError(call: "rename")
            unlinkQuietly(temporary)
            throw error
        }
    }

    /// Like `write`, but never replaces: false (and nothing written) when `path` already exists.
    package static func writeNew(_ bytes: [UInt8], to path: RawPath) throws -> Bool {
        if let linked = try writeNewUnnamed(bytes, to: path) { return linked }
        let temporary = try fill(temporaryBeside: path) { output in try writeAll(output, bytes[...]) }
        defer { unlinkQuietly(temporary) }
        return try NoReplace.rename(temporary, to: path, regularFile: true)
    }

    /// Linux's O_TMPFILE (`__O_TMPFILE | O_DIRECTORY`; the macro is not imported into Swift).
    private static let unnamedFileFlags = Int32(0o20000000) | O_DIRECTORY

    /// `writeNew` with a file that has no name until `linkat` gives it its final one: a kill -9 between the
    /// write and the link leaves nothing behind (the kernel frees an unlinked file), where a temporary name
    /// would stay in `done_dir`/`failed_dir` for good; and `linkat` never replaces (EEXIST). nil when the
    /// filesystem or the environment does not offer it (no O_TMPFILE, no /proc): the caller falls back.
    private static func writeNewUnnamed(_ bytes: [UInt8], to path: RawPath) throws -> Bool? {
        try makeDirectories(path.parent)
        let output = path.parent.withCString { open($0, unnamedFileFlags | O_WRONLY | O_CLOEXEC, 0o644) }
        if output < 0 {
            if [EOPNOTSUPP, EISDIR, EINVAL, ENOENT].contains(errno) { return nil }
            throw SystemError(call: "open")
        }
        defer { close(output) }
        try writeAll(output, bytes[...])
        guard fsync(output) == 0 else { throw SystemError(call: "fsync") }
        let linked = path.withCString { linkat(AT_FDCWD, "/proc/self/fd/\(output)", AT_FDCWD, $0, AT_SYMLINK_FOLLOW) }
        if linked == 0 { return true }
        switch errno {
        case EEXIST: return false
        case ENOENT where access("/proc/self/fd", F_OK) != 0: return nil
        default: throw SystemError(call: "linkat")
        }
    }

    /// Streams `source` (a regular file) into a new temporary file in `directory`, fsynced, with the
    /// source's mode and mtime (so the copy is recognisably the same version); returns its path.
    package static func copyToTemporary(_ source: RawPath, in directory: RawPath, tag: String) throws -> RawPath {
        let input = source.withCString { open($0, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC) }
        guard input >= 0 else { throw SystemError(call: "open") }
        defer { close(input) }
        let target = directory.appending(".imagedrop-copy-\(tag)")
        return try fill(temporaryBeside: target) { output in
            try copyVersion(from: input, to: output)
        }
    }

    /// The bytes, then the source's mode and mtime (so the copy is recognisably the same version).
    private static func copyVersion(from input: Int32, to output: Int32) throws {
        try stream(from: input, to: output)
        var info = stat()
        guard fstat(input, &info) == 0 else { throw SystemError(call: "fstat") }
        var times = [info.st_atim, info.st_mtim]
        guard futimens(output, &times) == 0, fchmod(output, info.st_mode & 0o7777) == 0 else {
            throw SystemError(call: "futimens")
        }
    }

    /// A file with no name yet (O_TMPFILE) in a folder, owning its descriptor: what a move to another
    /// filesystem copies into, so a kill -9 mid-copy leaves nothing in `done_dir` (a named temporary stayed
    /// there for good when a kill -9 struck mid-copy). `link(to:)` gives it its final name, never replacing one.
    package final class UnnamedFile {
        package let descriptor: Int32

        fileprivate init(descriptor: Int32) { self.descriptor = descriptor }
        deinit { close(descriptor) }

        /// True when linked, false when `target` is taken (EEXIST).
        package func link(to target: RawPath) throws -> Bool {
            let linked = target.withCString {
                linkat(AT_FDCWD, "/proc/self/fd/\(descriptor)", AT_FDCWD, $0, AT_SYMLINK_FOLLOW)
            }
            if linked == 0 { return true }
            if errno == EEXIST { return false }
            throw SystemError(call: "linkat")
        }
    }

    /// `copyToTemporary` into an unnamed file; nil when the folder's filesystem or the environment has no
    /// O_TMPFILE or no /proc (the caller then uses a named temporary).
    package static func copyUnnamed(_ source: RawPath, in directory: RawPath) throws -> UnnamedFile? {
        guard access("/proc/self/fd", F_OK) == 0 else { return nil }
        try makeDirectories(directory)
        let output = directory.withCString { open($0, unnamedFileFlags | O_WRONLY | O_CLOEXEC, 0o644) }
        if output < 0 {
            if [EOPNOTSUPP, EISDIR, EINVAL, ENOENT].contains(errno) { return nil }
            throw SystemError(call: "open")
        }
        let file = UnnamedFile(descriptor: output)
        let input = source.withCString { open($0, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC) }
        guard input >= 0 else { throw SystemError(call: "open") }
        defer { close(input) }
        try copyVersion(from: input, to: output)
        guard fsync(output) == 0 else { throw SystemError(call: "fsync") }
        return file
    }

    /// Copies `source` onto `target` created with O_EXCL (never replacing it), for filesystems that offer
    /// neither RENAME_NOREPLACE nor hard links. False when `target` exists. A crash mid-copy can leave a
    /// partial `target`; it is never mistaken for the job's file (its size or hash differ).
    package static func copyExclusive(_ source: RawPath, to target: RawPath) throws -> Bool {
        let input = source.withCString { open($0, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC) }
        guard input >= 0 else { throw SystemError(call: "open") }
        defer { close(input) }
        var info = stat()
        guard fstat(input, &info) == 0 else { throw SystemError(call: "fstat") }
        let output = target.withCString { open($0, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, info.st_mode & 0o7777) }
        if output < 0, errno == EEXIST { return false }
        guard output >= 0 else { throw SystemError(call: "open") }
        do {
            try stream(from: input, to: output)
            var times = [info.st_atim, info.st_mtim]
            _ = futimens(output, &times)
            try syncAndClose(output)
        } catch {
            close(output)
            unlinkQuietly(target)  // created by this call (O_EXCL): removing it replaces nothing
            throw error
        }
        return true
    }

    /// A new temporary file beside `target`, filled by `fill`, fsynced and closed. Write errors on NFS or a
    /// full disk may only show at fsync or close, so both are checked; on any failure it is removed.
    private static func fill(temporaryBeside target: RawPath, _ fill: (Int32) throws -> Void) throws -> RawPath {
        try makeDirectories(target.parent)
        let temporary = RawPath(
            bytes: target.bytes + Array(".imagedrop-tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))".utf8))
        let output = temporary.withCString { open($0, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) }
        guard output >= 0 else { throw SystemError(call: "open") }
        do {
            try fill(output)
            try syncAndClose(output)
        } catch {
            unlinkQuietly(temporary)
            throw error
        }
        return temporary
    }

    private static func syncAndClose(_ output: Int32) throws {
        let synced = fsync(output) == 0
        let syncError = errno
        let closed = close(output) == 0
        guard synced else { throw SystemError(call: "fsync", errno: syncError) }
        guard closed else { throw SystemError(call: "close") }
    }

    private static func stream(from input: Int32, to output: Int32) throws {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let got = try Syscall.read(input, into: &buffer)
            if got == 0 { return }
            try writeAll(output, buffer[..<got])
        }
    }

    private static func writeAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>) throws {
        try Syscall.writeAll(fd, bytes)
    }

    package static func unlinkQuietly(_ path: RawPath) {
        path.withCString { _ = unlink($0) }
    }

    package static func makeDirectories(_ path: RawPath) throws {
        if case .success(let status) = FileStatus.of(path), status.isDirectory { return }
        if path.bytes.count > 1 { try makeDirectories(path.parent) }
        let rc = path.withCString { mkdir($0, 0o755) }
        if rc != 0, errno != EEXIST { throw SystemError(call: "mkdir") }
    }
}

extension AtomicFile {
    /// The whole file, or nil when it cannot be read or is larger than `limit` bytes.
    package static func read(_ path: RawPath, limit: Int) -> [UInt8]? {
        let input = path.withCString { open($0, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC) }
        guard input >= 0 else { return nil }
        defer { close(input) }
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            guard let got = try? Syscall.read(input, into: &buffer) else { return nil }
            if got == 0 { return result }
            result += buffer[..<got]
            if result.count > limit { return nil }
        }
    }

    /// Lowercase hex SHA-256 of a regular file's bytes, or nil when it cannot be read.
    package static func sha256(of path: RawPath) -> String? {
        let input = path.withCString { open($0, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC) }
        guard input >= 0 else { return nil }
        defer { close(input) }
        let hasher = SHA256Hasher()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            guard let got = try? Syscall.read(input, into: &buffer) else { return nil }
            if got == 0 { return hasher.finalizeHex() }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[..<got])) }
        }
    }
}
