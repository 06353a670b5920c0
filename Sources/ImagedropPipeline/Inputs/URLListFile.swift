import Glibc
import ImagedropParsing
import ImagedropStore
import ImagedropSupport
import ImagedropSystem

/// A watched `*.urls` file, read whole: the same guards as an image's pre-flight (a regular file, never a
/// FIFO opened in a way that blocks, a version that did not change while it was read), but no image probe.
package enum URLListFile {
    /// 2,049 bytes a line for 8,000 lines: far more than any list a person writes, small enough to hold.
    package static let maxBytes = 16 * 1024 * 1024

    package enum Read {
        case ready(text: String, version: JobStore.Version, sha256: String)
        case rejected(String)
        case changing
        /// Out of descriptors, an I/O error and the like (FileInspector.isPassing): try again later.
        case unavailable(String)
    }

    package static func read(_ path: RawPath) -> Read {
        let status: FileStatus
        switch FileStatus.of(path) {
        case .success(let value): status = value
        case .failure(let error): return read(failure: error)
        }
        guard status.isRegular else { return .rejected("not a regular file (\(status.kindName))") }
        guard status.size <= maxBytes else {
            return .rejected(
                "URL list is \(ImageLimits.grouped(status.size)) bytes: over the \(ImageLimits.grouped(maxBytes))-byte limit"
            )
        }
        let fd = path.withCString { open($0, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY) }
        guard fd >= 0 else { return read(failure: SystemError(call: "open")) }
        defer { close(fd) }
        guard case .success(let opened) = FileStatus.of(fileDescriptor: fd), opened.isRegular,
            opened.sameVersion(as: status), !FileInspector.heldByWriter(fd, version: opened)
        else { return .changing }
        var bytes = [UInt8](repeating: 0, count: opened.size)
        var offset = 0
        do throws(SystemError) {
            while offset < opened.size {
                let got = try Syscall.pread(fd, into: &bytes, start: offset, count: opened.size - offset, at: offset)
                if got == 0 { break }
                offset += got
            }
        } catch {
            return FileInspector.isPassing(error.errno)
                ? .unavailable("cannot read the file for now: \(error.message)")
                : .rejected("cannot read the file: \(error.message)")
        }
        guard offset == opened.size, case .success(let after) = FileStatus.of(fileDescriptor: fd),
            after.sameVersion(as: opened)
        else { return .changing }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return .rejected("URL list is not UTF-8 text")
        }
        return .ready(
            text: text, version: .init(size: opened.size, mtimeNanos: opened.mtimeNanos),
            sha256: SHA256Hasher.hex(of: bytes))
    }

    private static func read(failure error: SystemError) -> Read {
        FileInspector.isPassing(error.errno)
            ? .unavailable("cannot open the file for now: \(error.message)")
            : .rejected(FileInspector.describeAccess(error))
    }
}
