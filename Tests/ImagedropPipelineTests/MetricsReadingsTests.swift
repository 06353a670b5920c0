import Foundation
import Glibc
import ImagedropTestSupport
import Testing

@testable import ImagedropPipeline
@testable import ImagedropStore
@testable import ImagedropSystem

/// Where the newer gauges' figures come from (/proc, the rate limiter, the pause gate) and how their series
/// appear and go.
@Suite("Metrics readings")
struct MetricsReadingsTests {
    @Test("/proc/self/stat is read past a command name holding spaces and parentheses; btime gives the start")
    func parsesProcStat() {
        // Fields 3… after the last ')': state, then 18 more up to starttime (22), vsize (23), rss (24).
        let stat = Array(
            "4242 (my (odd) name) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 12345 999 2560 rest\n".utf8)
        let procStat = Array("cpu  1 2 3\nintr 5\nbtime 1764000000\nprocesses 9\n".utf8)
        let parsed = ProcessStats.parse(stat: stat, procStat: procStat, ticksPerSecond: 100, pageSize: 4096)
        #expect(parsed.startTimeSeconds == 1_764_000_123.45)
        #expect(parsed.residentMemoryBytes == 2560 * 4096)
        let broken = ProcessStats.parse(
            stat: Array("4242 (x) S 1 2".utf8), procStat: procStat, ticksPerSecond: 100, pageSize: 4096)
        #expect(broken.startTimeSeconds == nil && broken.residentMemoryBytes == nil)
        let noBoot = ProcessStats.parse(
            stat: stat, procStat: Array("cpu 1\n".utf8), ticksPerSecond: 100, pageSize: 4096)
        #expect(noBoot.startTimeSeconds == nil && noBoot.residentMemoryBytes == 2560 * 4096)
    }

    @Test("this test process's own figures are plausible: started before now, megabytes resident, descriptors open")
    func readsThisProcess() throws {
        let stats = ProcessStats.current()
        let start = try #require(stats.startTimeSeconds)
        let now = Date().timeIntervalSince1970
        #expect(start <= now + 1 && start > now - 86_400, "started \(now - start) s ago")
        #expect(try #require(stats.residentMemoryBytes) > 1 << 20)
        // Other tests of this process open and close descriptors meanwhile: 200 more is well above their churn.
        let before = try #require(stats.openFileDescriptors)
        let opened = (0..<200).map { _ in open("/dev/null", O_RDONLY) }
        defer { for fd in opened { close(fd) } }
        #expect(opened.allSatisfy { $0 >= 0 })
        let after = try #require(ProcessStats.current().openFileDescriptors)
        #expect(after >= before + 150 && after <= before + 250, "\(before) before, \(after) after opening 200")
    }

    @Test("budget remaining: the limit less the window's grants; nil (no series) when unlimited")
    func budgetRemaining() throws {
        let limiter = RateLimiter(limit: 10, windowSeconds: 60)
        let start: UInt64 = 1_000_000_000_000
        #expect(limiter.remaining(now: start) == 10)
        for index in 0..<3 { #expect(limiter.tryAcquire(now: start + UInt64(index)) == 0) }
        #expect(limiter.remaining(now: start + 10) == 7)
        #expect(limiter.remaining(now: start + 61_000_000_000) == 10, "out of the window: spent no more")
        #expect(RateLimiter(limit: 0).remaining() == nil)

        let metrics = PipelineMetrics()
        var readings = GaugeReadings(queue: QueueSnapshot())
        readings.budgetRemaining = 7
        #expect(try Exposition(metrics.exposition(readings)).value("imagedrop_budget_remaining") == 7)
        readings.budgetRemaining = nil  // a reload to requests_per_5min = 0
        #expect(try Exposition(metrics.exposition(readings)).types["imagedrop_budget_remaining"] == nil)
    }

    @Test("imagedrop_write_behind_waiting: the writer's backlog as read at the emit, 0 when nothing waits")
    func writerWaiting() throws {
        let metrics = PipelineMetrics()
        var readings = GaugeReadings(queue: QueueSnapshot())
        #expect(try Exposition(metrics.exposition(readings)).value("imagedrop_write_behind_waiting") == 0)
        readings.writerWaiting = 17
        #expect(try Exposition(metrics.exposition(readings)).value("imagedrop_write_behind_waiting") == 17)
    }

    @Test("imagedrop_paused: one series per reason, 1 for the reason in force; the family sums to 1 while paused")
    func pausedReason() throws {
        let metrics = PipelineMetrics()
        func paused(_ reason: PauseGate.MetricReason?) throws -> [String: Double] {
            let parsed = try Exposition(metrics.exposition(GaugeReadings(queue: QueueSnapshot(), pause: reason)))
            return Dictionary(
                uniqueKeysWithValues: parsed.samples.filter { $0.name == "imagedrop_paused" }
                    .map { ($0.labels["reason"] ?? "?", $0.value) })
        }
        #expect(try paused(.unreachable) == ["credentials": 0, "unreachable": 1, "quota": 0, "operator": 0])
        #expect(try paused(.quota) == ["credentials": 0, "unreachable": 0, "quota": 1, "operator": 0])
        #expect(try paused(.operator) == ["credentials": 0, "unreachable": 0, "quota": 0, "operator": 1])
        #expect(try paused(nil) == ["credentials": 0, "unreachable": 0, "quota": 0, "operator": 0])

        // The gate's answer: the operator's pause first (as `reason` says), else the API's kind.
        let gate = PauseGate()
        #expect(gate.metricReason == nil)
        gate.pause("quota reached: 10 of 10 images stored", kind: .quota)
        #expect(gate.metricReason == .quota)
        gate.setOperatorPause("paused by operator: maintenance")
        #expect(gate.metricReason == .operator)
        gate.setOperatorPause(nil)
        gate.resume()
        #expect(gate.metricReason == nil)
    }

    @Test("webhook deliveries by state, from the outbox figures")
    func webhookDeliveries() throws {
        var readings = GaugeReadings(queue: QueueSnapshot())
        let metrics = PipelineMetrics()
        #expect(
            try Exposition(metrics.exposition(readings)).types["imagedrop_webhook_deliveries"] == nil,
            "no outbox, no family")
        var backlog = WebhookBacklog()
        backlog.pending = 4
        readings.webhooks = backlog
        let parsed = try Exposition(metrics.exposition(readings))
        #expect(parsed.value("imagedrop_webhook_deliveries", ["state": "pending"]) == 4)
        #expect(parsed.value("imagedrop_webhook_deliveries", ["state": "dead"]) == 0)
    }
}
