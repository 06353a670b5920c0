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

    @Test("An idle host that saw a 429 while Redis was away hands the block over soon after Redis answers")
    func idleHostHandsBlockOver() throws {
        let server = try RedisServer()
        defer { server.stop() }
        let budget = FleetBudgetTests.budget(server, host: "h1", limit: 100, window: 10)
        let heartbeat = FleetHeartbeat(budget)
        heartbeat.start()
        defer {
            heartbeat.beginStop()
            _ = heartbeat.waitForExit(seconds: 10)
        }
        heartbeat.publish(FleetHostReport(counts: [:], uploadsLastMinute: 0, paused: nil, version: "test"))
        #expect(budget.tryAcquire(now: Timestamp.monotonicNanos()) == 0)
        server.kill()
        _ = budget.tryAcquire(now: Timestamp.monotonicNanos())
        #expect(budget.degradedReason != nil)
        budget.block(forMillis: 8_000)
        #expect(budget.holdsUnsharedBlock)
        try server.restart()
        // No grant is asked for from here on: only the heartbeat can tell Redis.
        let other = FleetBudgetTests.budget(server, host: "h2", limit: 100, window: 10)
        #expect(
            eventually(within: 2.5) {
                other.tryAcquire(now: Timestamp.monotonicNanos()) > 0 && other.currentWait()?.blockedByServer == true
            }, "the other host was never blocked by Redis")
        #expect(!budget.holdsUnsharedBlock)
    }
}
