import Glibc
import ImagedropSupport
import ImagedropTestSupport
import ImagesEmulator
import Testing

@testable import ImagedropPipeline
@testable import ImagedropStore
@testable import ImagedropSystem

/// What a pool thread passes with each request, against the real emulator over loopback: the stop ends a wait
/// for the budget before anything is sent, and the end of the grace period cuts a request already running.
@Suite("Request admission", .serialized)
struct RequestAdmissionTests {
    private static let account = "023e105f4ecef8ad9ca31a8372d0c353"
    private static let token = APIToken("admission-test-token-0123456789abcdefgh")

    private func withClient(_ body: (EmulatorServer, ImagesClient) throws -> Void) throws {
        try withEmulatorClient(account: Self.account, timeoutSeconds: 60, body)
    }

    @Test("A stopping daemon gives up a request waiting for its grant: Stopped, and nothing reaches the API")
    func stopBeforeSending() throws {
        try withClient { server, client in
            let shutdown = ShutdownState()
            let budget = RateLimiter(limit: 1, windowSeconds: 300)
            #expect(budget.acquire(shouldStop: { false }))  // the window's only request is spent
            let heartbeat = Heartbeats().heartbeat("worker-0")
            let admission = RequestAdmission(
                budget: budget, shutdown: shutdown, pause: PauseGate(), heartbeat: heartbeat)
            OSThread.start(name: "test-stop") {
                usleep(200_000)
                shutdown.beginStopping()
            }
            #expect(throws: ImagesClient.Stopped.self) {
                try client.probeImagesAccess(token: Self.token, admission: admission)
            }
            #expect(server.requestLog().isEmpty)
        }
    }

    @Test("The grace period's end cuts a request in flight: a transport failure, aborted by the callback")
    func abortInFlight() throws {
        try withClient { server, client in
            var faults = FaultConfiguration()
            faults.latencyMs = 30_000
            server.setFaults(faults)
            let shutdown = ShutdownState()
            let admission = RequestAdmission(
                budget: RateLimiter(limit: 0), shutdown: shutdown, pause: PauseGate(), heartbeat: nil)
            OSThread.start(name: "test-abort") {
                usleep(300_000)
                shutdown.beginStopping()
                shutdown.beginAborting()
            }
            let reply = try client.probeImagesAccess(token: Self.token, admission: admission)
            #expect(reply.transportFailure?.code == 42)  // CURLE_ABORTED_BY_CALLBACK
        }
    }
}
