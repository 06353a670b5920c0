import Glibc
import ImagedropParsing
import ImagedropSupport
import ImagedropSystem

/// A file that passed pre-flight, held open: the upload reads this descriptor, so what is sent is the
/// inode that was hashed and measured even if the path is replaced meanwhile. Closed in deinit.
package final class InspectedFile {
    package let fileDescriptor: Int32
    package let status: FileStatus
    /// nil until the upload has read the bytes (`FileInspector.inspect`'s `hashingBelow`): then the digest of
    /// the bytes as sent.
    package var sha256: String?
    package let info: ImageInfo
    /// The bytes that were hashed, for a file of at most `FileInspector.keptBytesLimit`: the upload sends these
    /// (`FileBody.bytes`) instead of reading the file again.
    package let bytes: [UInt8]?
    /// Their share of `KeptBytesBudget`, given back with this file.
    private let charge: KeptBytesBudget.Charge?

    package init(
        fileDescriptor: Int32, status: FileStatus, sha256: String?, info: ImageInfo,
        kept: (bytes: [UInt8], charge: KeptBytesBudget.Charge)? = nil
    ) {
        self.fileDescriptor = fileDescriptor
        self.status = status
        self.sha256 = sha256
        self.info = info
        self.bytes = kept?.bytes
        self.charge = kept?.charge
    }

    deinit { close(fileDescriptor) }
}

@available(*, unavailable)
extension InspectedFile: Sendable {}

package enum PreflightResult {
    case ready(InspectedFile)
    /// The file can never be uploaded as it is; the job ends `failed` with this reason, nothing is sent.
    case rejected(String)
    /// The file changed while it was being read, or a writer still holds it open: look again later.
    case changing
    /// A local condition that passes (out of descriptors or memory, an I/O error, a stale NFS handle): nothing
    /// is wrong with the file, so the job is tried again later and never fails for it.
    case unavailable(String)
}

/// Local pre-flight (DESIGN.md): everything that can be known without a request is checked here, so a
/// bad file costs no API call and never blocks a worker.
package enum FileInspector {
    /// The largest file whose bytes pre-flight keeps for the upload: read once, not twice (the second read, a
    /// page-cache copy and a syscall, was 2 % of a 50 KB upload's CPU). Each prepared or sending job holds its
    /// bytes until its request ends, within `KeptBytesBudget` (docs/benchmarks.md).
    package static let keptBytesLimit = 64 * 1024

    /// A writer the watcher never saw (it wrote before the folder was watched) may only have paused: the kernel
    /// says whether any process holds the file open for writing (`WriterProbe`). One idle for as long as the
    /// watcher's own open-write hints last is taken as done: a program that keeps a file open and never writes
    /// again must not hold its job for ever.
    package static func heldByWriter(_ fd: Int32, version: FileStatus) -> Bool {
        WriterProbe.writers(fd) == .writing
            && Timestamp.nowMillis() * 1_000_000 - version.mtimeNanos < Int64(OpenWrites.staleAfterNanos)
    }

    /// A file of `hashingBelow` bytes or more is not hashed here: only its head is read (for the probe), and the
    /// upload hashes it as it sends it (`UploadPlan.form`), one read instead of two.
    /// A file of at most `keptBytesLimit` that is hashed here is read whole and kept for the upload to send, while
    /// `keeping` has room for it.
    package static func inspect(
        path: RawPath, root: RawPath?, followSymlinksOutside: Bool, hashingBelow: Int = .max,
        keeping: KeptBytesBudget = .shared
    ) -> PreflightResult {
        let linkStatus: FileStatus
        switch FileStatus.of(path, followSymlinks: false) {
        case .success(let status): linkStatus = status
        case .failure(let error): return failure(error)
        }
        if linkStatus.isSymlink {
            guard let target = path.realPath else { return .rejected("broken symlink (its target does not exist)") }
            if !followSymlinksOutside {
                // A job without a root was enqueued by path from outside every watched folder: there is no
                // tree its target could be shown to stay in, so it is outside (the soak saw such a symlink
                // publish a file from anywhere on disk).
                guard let root else {
                    return .rejected(
                        "symlink outside every watched folder (to \(target.display)); set watch.follow_symlinks_outside = true to allow"
                    )
                }
                let realRoot = root.realPath ?? root
                if !target.isInside(realRoot) {
                    return .rejected(
                        "symlink leads out of the watched tree (to \(target.display)); set watch.follow_symlinks_outside = true to allow"
                    )
                }
            }
        }
        // stat first, open second: a FIFO or device is never opened, so it can never block a worker. The path
        // itself is no symlink: the first stat said what open will find, and O_NOFOLLOW keeps it that way (a
        // symlink put in its place since is refused with ELOOP, and looked at again later).
        let status: FileStatus
        if linkStatus.isSymlink {
            switch FileStatus.of(path) {
            case .success(let value): status = value
            case .failure(let error): return failure(error)
            }
        } else {
            status = linkStatus
        }
        guard status.isRegular else { return .rejected("not a regular file (\(status.kindName))") }
        if status.size == 0 { return .rejected("empty file (0 bytes)") }
        if status.size > ImageLimits.maxBytes {
            return .rejected(
                "file is \(ImageLimits.grouped(status.size)) bytes: over the 10 MiB (10,485,760 bytes) limit")
        }

        // O_NONBLOCK as well: if the path was swapped for a FIFO after the stat above, open must not hang.
        let noFollow = linkStatus.isSymlink ? 0 : O_NOFOLLOW
        let fd = path.withCString { open($0, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | noFollow) }
        guard fd >= 0 else {
            let error = SystemError(call: "open")
            // Not a symlink when it was stat'ed, one now: swapped meanwhile, so the next look decides.
            return error.errno == ELOOP && noFollow != 0 ? .changing : failure(error)
        }
        let opened: FileStatus
        switch FileStatus.of(fileDescriptor: fd) {
        case .success(let value) where value.isRegular:
            opened = value
        case .success:
            close(fd)
            return .rejected("not a regular file")
        case .failure(let error):
            close(fd)
            return failure(error)
        }
        guard opened.sameVersion(as: status) else {
            close(fd)
            return .changing
        }
        // Checked on what was opened, after opening: a folder on the way swapped for a symlink (by anyone who
        // may write to the drop folder) cannot make the daemon publish a file from outside the watched tree.
        // The opened path is canonical (no symlink in it): inside the root as written, it is in the folder that
        // is there now; only when it is not does the root's own canonical form need resolving (a watched path
        // that is or goes through a symlink) — realpath(3) is a readlink per component, on every upload.
        // A file named right in the root, opened without following a symlink, has no folder on the way: it is
        // in whatever folder the root is now, which is what the check would accept (the root's realpath), so
        // the kernel is not asked (its readlink of /proc/self/fd was 2 % of a small upload's CPU). One case it
        // answered differently: such a file renamed out of the tree between the open and the check was refused; it
        // was in the tree when opened, so it is taken now, as a file renamed away just after its check always was.
        if let root, !followSymlinksOutside, !(noFollow != 0 && Self.isNamedInRoot(path, root)),
            let opened = Self.openedPath(fd), !opened.isInside(root), !opened.isInside(root.realPath ?? root)
        {
            close(fd)
            return .rejected("symlink leads out of the watched tree (the file opened is \(opened.display))")
        }

        if heldByWriter(fd, version: opened) {
            close(fd)
            return .changing
        }

        let hasher = opened.size < hashingBelow ? SHA256Hasher() : nil
        // Without a hash only the head the probe looks at is read now.
        let readLimit = hasher == nil ? min(opened.size, 65_536) : opened.size
        // One pass reads the bytes for the hash and keeps the head for the probe; sequential advice doubles the
        // kernel's readahead for it, and nothing is dropped, so the upload's reads then come from warm pages.
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        let charge = hasher != nil && opened.size <= keptBytesLimit ? keeping.take(opened.size) : nil
        let read =
            charge != nil
            ? readWhole(fd, count: readLimit, hashing: hasher) : readHead(fd, limit: readLimit, hashing: hasher)
        let head: [UInt8]
        let offset: Int
        switch read {
        case .success(let value): (head, offset) = value
        case .failure(let error):
            close(fd)
            return readFailure(error)
        }
        guard offset == readLimit, case .success(let after) = FileStatus.of(fileDescriptor: fd),
            after.sameVersion(as: opened)
        else {
            close(fd)
            return .changing
        }

        var probeReadError: SystemError?
        let info = ImageProbe.probe(fileSize: opened.size) { start, count in
            if start + count <= head.count { return Array(head[start..<(start + count)]) }
            var chunk = [UInt8](repeating: 0, count: max(0, min(count, opened.size - start)))
            if chunk.isEmpty { return [] }
            do throws(SystemError) {
                let got = try Syscall.pread(fd, into: &chunk, count: chunk.count, at: start)
                return Array(chunk[0..<got])
            } catch {
                probeReadError = error
                return nil
            }
        }
        if let probeReadError {
            close(fd)
            return readFailure(probeReadError)
        }
        guard let info else {
            close(fd)
            return .rejected("not an image (its bytes are not PNG, JPEG, GIF, WebP, SVG, HEIC or AVIF)")
        }
        if let violation = ImageLimits.violation(of: info) {
            close(fd)
            return .rejected(violation)
        }
        return .ready(
            InspectedFile(
                fileDescriptor: fd, status: opened, sha256: hasher?.finalizeHex(), info: info,
                kept: charge.map { (head, $0) }))
    }

    /// Conditions of this host, not of the file, that pass on their own: the job waits for them, never fails.
    package static func isPassing(_ errno: Int32) -> Bool {
        [EMFILE, ENFILE, ENOMEM, EIO, ESTALE, EAGAIN, EINTR, ENOBUFS, ETIMEDOUT].contains(errno)
    }

    /// A failed stat or open: passing (`unavailable`) or about the file itself (`rejected`).
    package static func failure(_ error: SystemError) -> PreflightResult {
        isPassing(error.errno)
            ? .unavailable("cannot open the file for now: \(error.message)") : .rejected(describeAccess(error))
    }

    /// A failed read of an opened file: passing (`unavailable`) or the file's own (`rejected`).
    package static func readFailure(_ error: SystemError) -> PreflightResult {
        isPassing(error.errno)
            ? .unavailable("cannot read the file for now: \(error.message)")
            : .rejected("cannot read the file: \(error.message)")
    }

    package static func describeAccess(_ error: SystemError) -> String {
        switch error.errno {
        case ENOENT, ENOTDIR: return "file vanished before it could be uploaded"
        case EACCES, EPERM: return "permission denied: the daemon may not read this file"
        case ELOOP: return "too many levels of symlinks"
        default: return "cannot open the file: \(error.message)"
        }
    }
}

extension FileInspector {
    /// The whole file, `count` bytes (fewer if it shrank: the caller's version check sees that), read into the
    /// array itself and then hashed: the bytes the probe looks at, the hash covers and the upload sends.
    static func readWhole(
        _ fd: Int32, count: Int, hashing hasher: SHA256Hasher?
    ) -> Result<(head: [UInt8], offset: Int), SystemError> {
        var readError: SystemError?
        var offset = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { storage, initialized in
            while offset < count {
                do throws(SystemError) {
                    let got = try Syscall.pread(
                        fd, into: storage.baseAddress! + offset, count: count - offset, at: offset)
                    if got == 0 { break }
                    offset += got
                } catch {
                    readError = error
                    break
                }
            }
            initialized = offset
        }
        if let readError { return .failure(readError) }
        bytes.withUnsafeBytes { hasher?.update($0) }
        return .success((bytes, offset))
    }

    /// The first `limit` bytes through a buffer of at most 64 KiB, each chunk hashed; the first 64 KiB kept for
    /// the probe.
    static func readHead(
        _ fd: Int32, limit: Int, hashing hasher: SHA256Hasher?
    ) -> Result<(head: [UInt8], offset: Int), SystemError> {
        // Sized to the file (at most 64 KiB) and left uninitialized: zeroing a fresh 256 KiB per file, and
        // faulting its pages in, cost more than hashing a 50 KB one, and 64 workers opening large files at
        // once held 16 MiB of them. The kernel's readahead, not the buffer, sets the pace.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, min(64 * 1024, limit)), alignment: 16)
        defer { buffer.deallocate() }
        var head: [UInt8] = []
        var offset = 0
        while offset < limit {
            let got: Int
            do throws(SystemError) {
                got = try Syscall.pread(
                    fd, into: buffer.baseAddress!, count: min(buffer.count, limit - offset), at: offset)
            } catch {
                return .failure(error)
            }
            if got == 0 { break }
            let read = UnsafeRawBufferPointer(rebasing: buffer[0..<got])
            hasher?.update(read)
            if head.count < 65_536 { head.append(contentsOf: read[0..<min(got, 65_536 - head.count)]) }
            offset += got
        }
        return .success((head, offset))
    }

    /// `path` is `root` + "/" + a name: no folder lies between them.
    package static func isNamedInRoot(_ path: RawPath, _ root: RawPath) -> Bool {
        let name = path.baseName
        return !name.isEmpty && name != [UInt8(ascii: ".")] && name != [UInt8(ascii: "."), UInt8(ascii: ".")]
            && path.bytes.count == root.bytes.count + 1 + name.count && path.parent.bytes == root.bytes
    }

    /// Where the opened file lives now, from the kernel (`/proc/self/fd/N`): no race with renames of the
    /// path or of folders on the way, unlike resolving the path again. A file unlinked since it was opened
    /// is judged by where it was. Nil when /proc cannot tell (the check is then skipped, not failed).
    package static func openedPath(_ fd: Int32) -> RawPath? {
        // Not zeroed first (a 4 KiB memset per upload): readlink says how many bytes it wrote, only those are read.
        let read = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Int(PATH_MAX) + 1) { buffer -> [UInt8]? in
            let count = "/proc/self/fd/\(fd)".withCString { link in
                readlink(
                    link, UnsafeMutableRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self), buffer.count
                )
            }
            guard count > 0, buffer[0] == UInt8(ascii: "/") else { return nil }
            return Array(buffer[0..<count])
        }
        guard var bytes = read else { return nil }
        let deleted = Array(" (deleted)".utf8)
        if bytes.count > deleted.count, Array(bytes.suffix(deleted.count)) == deleted {
            bytes.removeLast(deleted.count)
        }
        return RawPath(bytes: bytes)
    }
}
