import Glibc
import ImagedropPipeline
import ImagedropStore
import ImagesEmulator
import Testing

/// Found by the soak (seed 2, invariant 6a): when a kept-alive connection was closed before any reply byte,
/// libcurl sent a GET or DELETE again on a new connection by itself — a request the rate limiter never
/// granted and the retry policy never saw. One `perform` must be one request; the caller decides on another.
@Suite("One request per transfer")
struct CurlResendTests {
    private let account = "023e105f4ecef8ad9ca31a8372d0c353"
    private static let admission = RequestAdmission(budget: RateLimiter(limit: 0))

    private func withClient(_ body: (EmulatorServer, ImagesClient) throws -> Void) throws {
        var configuration = EmulatorConfiguration()
        configuration.eventLoopThreads = 1
        let server = try EmulatorServer.start(configuration)
        defer { try? server.stop() }
        let client = ImagesClient(
            endpoint: .init(apiBaseURL: server.apiBaseURL, accountID: account, timeoutSeconds: 10))

        try body(server, client)
    }

    private var token: APIToken { APIToken("soak-resend-token-0123456789abcdefghijk") }

    private func isTransient(_ reply: ImagesClient.Reply) -> Bool {
        if case .transient = reply.classification { return true }
        return false
    }

    @Test("a reused connection closed without a reply is one request, not a silent second one")
    func closedBeforeReply() throws {
        try withClient { server, client in
            // The connection now lives.
            #expect(try client.probeImagesAccess(token: token, admission: Self.admission).classification == .success)
            var faults = FaultConfiguration()
            faults.closeBeforeReplyProbability = 1
            server.setFaults(faults)
            let reply = try client.probeImagesAccess(token: token, admission: Self.admission)
            #expect(isTransient(reply))
            if case .transient(let reason, _, _, _) = reply.classification { #expect(reason.contains("curl error 52")) }
            #expect(server.requestLog().count == 2)
        }
    }
}
