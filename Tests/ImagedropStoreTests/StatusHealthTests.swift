import ImagedropSupport
import Testing

@testable import ImagedropStore

/// `status --check`'s verdict from the daemon row alone, as a table.
@Suite("Status health")
struct StatusHealthTests {
    static func report(
        running: Bool, heartbeatAgeSeconds: Int64?, paused: String? = nil,
        operatorPause: OperatorPause? = nil
    ) -> StatusReport {
        var record = DaemonRecord()
        record.startedAt = "2026-01-01T00:00:00.000Z"
        if !running { record.stoppedAt = "2026-01-01T01:00:00.000Z" }
        record.heartbeatMillis = heartbeatAgeSeconds.map { Timestamp.nowMillis() - $0 * 1000 }
        record.paused = paused
        record.operatorPause = operatorPause
        return StatusReport(
            snapshot: QueueSnapshot(), daemon: record, running: running, pid: running ? 42 : nil,
            databaseExists: true)
    }

    @Test(
        "fresh, stale, paused, the operator's pause and no daemon",
        arguments: [
            (true, 4, nil, nil, .running, true),
            (true, 15, nil, nil, .running, true),
            (true, 16, nil, nil, .notResponding, false),
            (true, 16, "token refused: 10000", nil, .notResponding, false),
            (true, 1, "token refused: 10000", nil, .paused, true),
            (true, 1, nil, "maintenance", .paused, true),
            (false, 600, nil, "maintenance", .notRunning, nil),
        ] as [(Bool, Int64, String?, String?, StatusReport.Health, Bool?)])
    func health(
        running: Bool, age: Int64, paused: String?, operatorReason: String?, health: StatusReport.Health,
        responding: Bool?
    ) {
        let report = Self.report(
            running: running, heartbeatAgeSeconds: age, paused: paused,
            operatorPause: operatorReason.map { OperatorPause(at: "2026-01-01T00:00:00.000Z", reason: $0) })
        #expect(report.health == health)
        #expect(report.responding == responding)
        if let operatorReason { #expect(report.pausedReason == "paused by operator: \(operatorReason)") }
    }

    @Test("every age is measured from the moment the report was read: the printed line and the exit code agree")
    func oneMomentPerReport() {
        var report = Self.report(running: true, heartbeatAgeSeconds: nil)
        report.readAtMillis = 1_000_000
        report.daemon.heartbeatMillis = 1_000_000 - 15_999  // 15 s old when read: still running
        #expect(report.health == .running)
        #expect(report.healthLine.hasPrefix("running (pid 42)"), "\(report.healthLine)")
        report.daemon.heartbeatMillis = 1_000_000 - 16_000
        #expect(report.health == .notResponding)
        #expect(report.healthLine.hasPrefix("running, not responding for 16 s"), "\(report.healthLine)")
    }

    @Test("the not-responding line names how long, the pid and the last beat")
    func notRespondingLine() {
        var report = Self.report(running: true, heartbeatAgeSeconds: 20)
        report.daemon.heartbeatAt = "2026-01-01T00:00:00.000Z"
        #expect(
            report.healthLine.hasPrefix(
                "running, not responding for 20 s (pid 42, last heartbeat 2026-01-01T00:00:00.000Z"))
        #expect(report.text.hasPrefix("daemon:   running, not responding for 20 s"))
    }
}
