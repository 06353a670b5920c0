import Foundation
import Glibc
import ImagedropSupport
import ImagedropSystem
import ImagedropTestSupport
import ImagesEmulator
import Testing

/// The form as `CurlEasy` sends it, against the emulator on loopback: the parts after the `file` part go out only
/// after its last byte, and only while the descriptor still shows the version measured. With the digest known they
/// are plain parts and the file part checks the version itself, at its last byte; without it they are made from the
/// digest of the bytes as they are sent. Both ways must store the bytes under their own hash, and neither may let a
/// field follow bytes of another version. A small file's bytes kept by pre-flight (`FileBody.bytes`) are sent from
/// memory, and the descriptor's version is checked all the same.
@Suite("The fields after the file part")
struct FieldsAfterFileTests {
    private static let account = "023e105f4ecef8ad9ca31a8372d0c353"

    /// How the file part gets its bytes and its digest.
    enum Mode: CaseIterable {
        /// Read from the descriptor and hashed as sent (a large file).
        case hashedAsSent
        /// Read from the descriptor, the digest known from pre-flight.
        case knownDigest
        /// Copied from the bytes pre-flight read and hashed (a file of at most 64 KiB).
        case keptBytes
    }

    private struct Sent {
        var response: HTTPResponse?
        var error: CurlError?
        var stored: [StoredImage]
        var posts: [LoggedRequest]
    }

    /// Uploads `bytes` from a file whose version is measured first; `between` runs after the measure and before the
    /// request (where a writer changes the file).
    private func send(
        _ bytes: [UInt8], mode: Mode, between: (String) throws -> Void = { _ in }
    ) throws -> Sent {
        let knownDigest = mode != .hashedAsSent
        var configuration = EmulatorConfiguration()
        configuration.eventLoopThreads = 1
        let server = try EmulatorServer.start(configuration)
        defer { try? server.stop() }
        let folder = try TemporaryFolder()
        let path = folder.path + "/image.png"
        try writeFile(atPath: path, contents: Data(bytes))
        // With the bytes kept, a descriptor that cannot be read: a send that read the file anyway fails (EBADF).
        let fd = open(path, mode == .keptBytes ? O_WRONLY : O_RDONLY)
        #expect(fd >= 0)
        defer { close(fd) }
        guard case .success(let version) = FileStatus.of(fileDescriptor: fd) else {
            Issue.record("fstat failed")
            return Sent(stored: [], posts: [])
        }
        try between(path)
        let sha = SHA256Hasher.hex(of: bytes)
        var form = MultipartForm()
        form.file = FileBody(
            fileDescriptor: fd, size: version.size, filename: "image.png", bytes: mode == .keptBytes ? bytes : nil)
        let metadataSize = "{\"sha256\":\"\"}".utf8.count + 64
        form.fieldsAfterFile = FieldsAfterFile(
            names: ["id", "metadata"], sizes: [64, metadataSize], version: version,
            knownDigest: knownDigest ? sha : nil
        ) { digest in [digest, "{\"sha256\":\"\(digest)\"}"] }
        let easy = CurlEasy()
        var sent = Sent(stored: [], posts: [])
        do {
            sent.response = try easy.perform(
                method: "POST", url: "\(server.apiBaseURL)/accounts/\(Self.account)/images/v1",
                headers: ["Authorization: Bearer fields-after-file-token-0123456789abc"], form: form,
                timeoutSeconds: 10)
        } catch {
            sent.error = error
        }
        sent.stored = server.storedImages()
        sent.posts = server.requestLog().filter { $0.method == "POST" }
        return sent
    }

    @Test(
        "the id and metadata arrive whole after the file (plain parts with the digest known, made from it if not)",
        arguments: Mode.allCases)
    func storedUnderItsHash(mode: Mode) throws {
        let bytes = SampleImages.png(approximateBytes: mode == .keptBytes ? 50_000 : 150_000, seed: 301)
        let sha = SHA256Hasher.hex(of: bytes)
        let sent = try send(bytes, mode: mode)
        #expect(sent.error == nil, "\(String(describing: sent.error))")
        #expect(sent.response?.status == 200)
        #expect(sent.response?.sentFileSHA256 == sha)
        #expect(sent.stored.count == 1)
        #expect(sent.stored.first?.id == sha && sent.stored.first?.sha256 == sha)
        #expect(sent.stored.first?.size == bytes.count)
        #expect(sent.stored.first?.metaJSON == "{\"sha256\":\"\(sha)\"}")
    }

    @Test(
        "a file written after it was measured is cut before any field goes out: nothing is stored",
        arguments: Mode.allCases)
    func changedFileIsCut(mode: Mode) throws {
        let bytes = SampleImages.png(approximateBytes: mode == .keptBytes ? 50_000 : 150_000, seed: 302)
        // Appended to after the measure: the first `size` bytes are the same, so only the version check can tell.
        let sent = try send(bytes, mode: mode) { path in
            let fd = open(path, O_WRONLY | O_APPEND)
            defer { close(fd) }
            var extra: UInt8 = 0x2A
            #expect(write(fd, &extra, 1) == 1)
        }
        expectCut(sent)
    }

    @Test(
        "a file rewritten in place at the same size after it was measured is cut before any field goes out",
        arguments: Mode.allCases)
    func rewrittenSameSizeIsCut(mode: Mode) throws {
        let bytes = SampleImages.png(approximateBytes: mode == .keptBytes ? 50_000 : 150_000, seed: 303)
        // Other bytes at the end, the size unchanged, the mtime a second on: only the version check can tell.
        let sent = try send(bytes, mode: mode) { path in
            let fd = open(path, O_WRONLY)
            defer { close(fd) }
            let tail = [UInt8](repeating: 0x5A, count: 4096)
            #expect(pwrite(fd, tail, tail.count, off_t(bytes.count - tail.count)) == tail.count)
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            var times = [timespec(tv_sec: now.tv_sec + 1, tv_nsec: 0), timespec(tv_sec: now.tv_sec + 1, tv_nsec: 0)]
            #expect(futimens(fd, &times) == 0)
        }
        expectCut(sent)
    }

    /// The transfer failed as a changed file, and the server never saw a complete form: nothing stored, at most a
    /// request it closed without an image.
    private func expectCut(_ sent: Sent, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(sent.response == nil, sourceLocation: sourceLocation)
        #expect(
            sent.error?.message.contains("file changed during upload") == true, "\(String(describing: sent.error))",
            sourceLocation: sourceLocation)
        #expect(sent.stored.isEmpty, sourceLocation: sourceLocation)
        #expect(!sent.posts.contains { $0.status == 200 }, sourceLocation: sourceLocation)
    }
}
