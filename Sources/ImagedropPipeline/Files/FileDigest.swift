import Glibc
import ImagedropSupport
import ImagedropSystem

/// A file's version and SHA-256, for `reconcile --fix` to tell whether a file still holds the bytes an image
/// was made from. Only regular files are opened (a FIFO at the name never blocks: stat first, `O_NONBLOCK`
/// too), and a file that changes while it is read has no digest.
package enum FileDigest {
    package struct Result: Sendable, Equatable {
        package var status: FileStatus
        package var sha256: String
    }

    /// nil when the name is not a regular file, cannot be read, or changed while it was read.
    package static func of(_ path: RawPath) -> Result? {
        guard case .success(let status) = FileStatus.of(path), status.isRegular else { return nil }
        let fd = path.withCString { open($0, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY) }
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard case .success(let opened) = FileStatus.of(fileDescriptor: fd), opened.isRegular,
            opened.sameVersion(as: status)
        else { return nil }
        let hasher = SHA256Hasher()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        var offset = 0
        while true {
            guard let got = try? Syscall.pread(fd, into: buffer.baseAddress!, count: buffer.count, at: offset) else {
                return nil
            }
            if got == 0 { break }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[..<got]))
            offset += got
        }
        guard case .success(let after) = FileStatus.of(fileDescriptor: fd), after.sameVersion(as: opened),
            offset == opened.size
        else { return nil }
        return Result(status: opened, sha256: hasher.finalizeHex())
    }
}
