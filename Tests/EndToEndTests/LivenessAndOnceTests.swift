import Foundation
import Glibc
import ImagedropSystem
import ImagedropStore
import ImagedropPipeline
import ImagedropDaemon
import ImagedropSupport
import Testing

/// The daemon's lifecycle under production conditions: the watchdog through a long budget wait, and
/// `run --once` ending only after the watcher has nothing left in hand.
@Suite("Liveness and --once", .serialized)
struct LivenessAndOnceTests {
    static let upload = """
        workers = 4
        backoff_initial_ms = 50
        backoff_max_ms = 2000
        request_timeout_s = 10
        shutdown_grace_s = 5
        pause_probe_s = 1
        requests_per_5min = 10
        """

    @Test("A backlog waiting for budget keeps WATCHDOG=1 coming every WATCHDOG_USEC/2 (30 files, 10 requests per 5 min)")
    func watchdogPingsDuringBudgetWait() throws {
        let fixture = try DaemonFixture()
        try fixture.writeConfig(settleMillis: 100, uploadSection: Self.upload)
        let listener = fixture.notify
        for index in 0..<30 { try fixture.drop("b\(index).png", seed: UInt64(200 + index)) }
        try fixture.start(environment: ["WATCHDOG_USEC": "6000000"])
        // The budget is spent within the first second; from then on every worker waits in the limiter.
        #expect(fixture.waitUntil(seconds: 20) { (fixture.counts()[.done] ?? 0) >= 1 })
        let windowStart = Timestamp.monotonicNanos()
        let windowSeconds = 18.0
        _ = fixture.waitUntil(seconds: windowSeconds) { fixture.process?.isRunning != true }
        let windowEnd = Timestamp.monotonicNanos()
        #expect(fixture.process?.isRunning == true)
        let counts = fixture.counts()
        #expect((counts[.queued] ?? 0) + (counts[.uploading] ?? 0) > 0, "the queue was not waiting for budget: \(counts)")
        #expect(fixture.emulator.requestLog().count <= 10)

        // Pings every 3 s; allow 1.5 s for scheduling. Edges count: the first ping after the window opened
        // and the silence from the last one to the window's end.
        let pings = listener.arrivalTimes(of: "WATCHDOG=1").filter { $0 >= windowStart && $0 <= windowEnd }
        let marks = [windowStart] + pings + [windowEnd]
        let longestGap = zip(marks, marks.dropFirst()).map { Double($1 - $0) / 1e9 }.max() ?? windowSeconds
        print("watchdog pings in \(windowSeconds) s of budget wait: \(pings.count), longest gap \(longestGap) s")
        #expect(pings.count >= 5)
        #expect(longestGap <= 4.5, "WATCHDOG=1 stopped for \(longestGap) s while the queue waited for budget")
        #expect(!fixture.log.contains("watchdog: a component is wedged"))
        #expect(fixture.stop() == 0)
    }

    @Test("run --once waits for a file still settling at start and for one written during the run, then exits 0")
    func onceWaitsForTheWatcher() throws {
        let fixture = try DaemonFixture(settleMillis: 2000)
        try fixture.drop("young.png", seed: 301)   // mtime now: younger than settle_ms when the start-up scan sees it
        try fixture.start(arguments: ["--once"])
        try fixture.drop("during.png", seed: 302)  // while young.png is still settling
        let process = try #require(fixture.process)
        #expect(fixture.waitUntil(seconds: 60) { !process.isRunning }, "run --once did not end")
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let jobs = try fixture.jobs()
        #expect(Set(jobs.map { ($0.path.display as NSString).lastPathComponent }) == ["young.png", "during.png"])
        #expect(jobs.allSatisfy { $0.state == .done })
        #expect(fixture.emulator.storedImages().count == 2)
    }
}
