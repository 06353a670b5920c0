import Foundation
import Glibc
import ImagedropSupport
import ImagedropTestSupport
import ImagesEmulator
import Testing

@testable import ImagedropPipeline
@testable import ImagedropStore
@testable import ImagedropSystem

/// The API client against the emulator started in this process on an ephemeral loopback port: real HTTP
/// through libcurl, the reply classified by the one table, no daemon and no child process.
@Suite("Images client against the in-process emulator")
struct ImagesClientTests {
    private static let account = "023e105f4ecef8ad9ca31a8372d0c353"
    private static let token = APIToken("images-client-test-token-0123456789abc")
    private static let admission = RequestAdmission(budget: RateLimiter(limit: 0))

    /// A PNG in a temporary file, held open: uploads read the descriptor, as the workers do.
    final class OpenImage {
        let bytes: [UInt8]
        let fileDescriptor: Int32
        private let path: String

        init(seed: UInt64) throws {
            bytes = SampleImages.png(width: 8, height: 8, seed: seed)
            path = NSTemporaryDirectory() + "imagedrop-client-\(UUID().uuidString).png"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            fileDescriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard fileDescriptor >= 0 else { throw SystemError(call: "open") }
        }

        deinit {
            close(fileDescriptor)
            unlink(path)
        }

        func form(id: String) -> MultipartForm {
            var form = MultipartForm()
            form.fields = [("id", id), ("requireSignedURLs", "false")]
            form.file = FileBody(fileDescriptor: fileDescriptor, size: bytes.count, filename: "image.png")
            return form
        }
    }

    private func withClient(
        _ configuration: EmulatorConfiguration = EmulatorConfiguration(),
        _ body: (EmulatorServer, ImagesClient) throws -> Void
    ) throws {
        try withEmulatorClient(configuration, account: Self.account, timeoutSeconds: 10, body)
    }

    @Test("an upload is stored and its reply carries the id and the variants")
    func uploadIsStored() throws {
        let image = try OpenImage(seed: 1)
        try withClient { server, client in
            let reply = try client.upload(image.form(id: "drop/one"), token: Self.token, admission: Self.admission)
            #expect(reply.classification == .success)
            #expect(reply.image?.id == "drop/one")
            #expect(reply.image?.variants?.isEmpty == false)
            let stored = server.storedImages()
            #expect(stored.map(\.id) == ["drop/one"])
            #expect(stored.first?.sha256 == SHA256Hasher.hex(of: image.bytes))
        }
    }

    @Test("a second upload under the same id is 'already exists' (409/5409), and the GET that follows finds it")
    func conflictThenGet() throws {
        let image = try OpenImage(seed: 2)
        try withClient { server, client in
            #expect(
                try client.upload(image.form(id: "drop/twice"), token: Self.token, admission: Self.admission)
                    .classification == .success)
            let again = try client.upload(image.form(id: "drop/twice"), token: Self.token, admission: Self.admission)
            #expect(again.classification == .alreadyExists)
            #expect(again.response?.status == 409)
            let existing = try client.image(id: "drop/twice", token: Self.token, admission: Self.admission)
            #expect(existing.classification == .success)
            #expect(existing.image?.id == "drop/twice")
            #expect(existing.image?.variants?.isEmpty == false)
            #expect(server.storedImages().count == 1)
            #expect(server.requestLog().map(\.method) == ["POST", "POST", "GET"])
        }
    }

    @Test("a 429 with Retry-After is transient, rate-limited, with the hint in milliseconds")
    func rateLimitedWithHint() throws {
        var configuration = EmulatorConfiguration()
        configuration.faults.rateLimitProbability = 1
        configuration.faults.retryAfterSeconds = 7
        let image = try OpenImage(seed: 3)
        try withClient(configuration) { server, client in
            let reply = try client.upload(image.form(id: "drop/limited"), token: Self.token, admission: Self.admission)
            #expect(reply.response?.status == 429)
            guard case .transient(_, _, let retryAfterMillis, let rateLimited) = reply.classification else {
                Issue.record("a 429 must be transient: \(reply.classification)")
                return
            }
            #expect(rateLimited)
            #expect(retryAfterMillis == 7_000)
            #expect(server.storedImages().isEmpty)
        }
    }

    @Test("a token the API refuses is a credentials reply (the queue pauses), not a failure of the file")
    func tokenRefused() throws {
        var configuration = EmulatorConfiguration()
        configuration.tokens = ["the-only-accepted-token-0123456789abcdef"]
        let image = try OpenImage(seed: 4)
        try withClient(configuration) { server, client in
            let reply = try client.upload(image.form(id: "drop/refused"), token: Self.token, admission: Self.admission)
            guard case .credentials = reply.classification else {
                Issue.record("a refused token must pause, not fail the job: \(reply.classification)")
                return
            }
            #expect([401, 403].contains(reply.response?.status ?? 0))
            #expect(server.storedImages().isEmpty)
            let accepted = try client.probeImagesAccess(
                token: APIToken("the-only-accepted-token-0123456789abcdef"), admission: Self.admission)
            #expect(accepted.classification == .success)
        }
    }
}
