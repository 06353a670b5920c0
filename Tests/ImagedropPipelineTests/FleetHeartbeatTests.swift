import ImagedropSupport
import ImagedropTestSupport
import Testing

@testable import ImagedropPipeline

/// The host's heartbeat as a component, against a real redis-server: it beats once it has the main loop's
/// figures, and its thread ends when the daemon stops it.
@Suite("Fleet heartbeat", .serialized)
struct FleetHeartbeatTests {
    @Test("Once it has a report the host shows in the fleet; a stop ends its thread")
    func beatsAndStops() throws {
        let server = try RedisServer()
        defer { server.stop() }
        let budget = FleetBudgetTests.budget(server, host: "h1", limit: 100, window: 300)
        let heartbeat = FleetHeartbeat(budget)
        heartbeat.start()
        heartbeat.publish(
            FleetHostReport(counts: [.queued: 3], uploadsLastMinute: 0, paused: nil, version: "test"))
        #expect(
            eventually(within: 20) {
                budget.state.withLock { $0.view?.hosts.map(\.name) } == ["h1"]
            })
        heartbeat.beginStop()
        #expect(heartbeat.waitForExit(seconds: 10))
    }
}
