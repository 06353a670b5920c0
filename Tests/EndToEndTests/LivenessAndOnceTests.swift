import Foundation
import Glibc
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import ImagesEmulator
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

    @Test(
        "A backlog waiting for budget keeps WATCHDOG=1 coming every WATCHDOG_USEC/2 (30 files, 10 requests per 5 min)")
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
        #expect(
            (counts[.queued] ?? 0) + (counts[.uploading] ?? 0) > 0, "the queue was not waiting for budget: \(counts)")
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

    @Test(
        "A daemon frozen by SIGSTOP past 3 heartbeats: status says running, not responding for N s, --check exits 4; SIGCONT: 0 again"
    )
    func stoppedDaemonIsNotResponding() throws {
        let fixture = try DaemonFixture()
        try fixture.start()
        let pid = try #require(fixture.process?.processIdentifier)
        func daemon() throws -> [String: Any] {
            let (_, out, error) = try fixture.runCommand(["status", "--json", "--config", fixture.configPath])
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], "\(error)")
            return try #require(object["daemon"] as? [String: Any])
        }
        #expect(try daemon()["responding"] as? Bool == true)

        kill(pid, SIGSTOP)
        defer { kill(pid, SIGCONT) }
        // Its last beat is at most one interval (5 s) old when it stops: stale at the latest 20 s later.
        var check: (Int32, String, String) = (0, "", "")
        #expect(
            fixture.waitUntil(seconds: 25) {
                check = (try? fixture.runCommand(["status", "--check", "--config", fixture.configPath])) ?? check
                return check.0 == 4
            }, "\(check)")
        #expect(check.1.hasPrefix("running, not responding for "), "\(check.1)")
        #expect(check.1.contains("(pid \(pid), last heartbeat "), "\(check.1)")
        let frozen = try daemon()
        #expect(
            frozen["responding"] as? Bool == false && frozen["running"] as? Bool == true
                && frozen["health"] as? String == "notResponding",
            "\(frozen)")
        let (_, text, _) = try fixture.runCommand(["status", "--config", fixture.configPath])
        #expect(text.contains("daemon:   running, not responding for "), "\(text)")

        kill(pid, SIGCONT)
        #expect(
            fixture.waitUntil(seconds: 10) {
                (try? fixture.runCommand(["status", "--check", "--config", fixture.configPath]))?.0 == 0
            }, "the daemon's next turn beats at once")
        #expect(fixture.stop() == 0)
        let (_, out, _) = try fixture.runCommand(["status", "--json", "--config", fixture.configPath])
        #expect(out.contains("\"responding\":null"), "no daemon, no answer to whether it responds: \(out)")
    }

    @Test("run --once stopped by SIGINT exits 130, by SIGTERM 143, each after its summary line with what is left")
    func onceStoppedBySignal() throws {
        for (signal, code) in [(SIGINT, Int32(130)), (SIGTERM, Int32(143))] {
            var emulator = EmulatorConfiguration()
            emulator.faults.latencyMs = 20_000
            let fixture = try DaemonFixture(emulator: emulator, settleMillis: 0)
            try fixture.writeConfig(
                settleMillis: 0,
                uploadSection: """
                    workers = 2
                    request_timeout_s = 60
                    shutdown_grace_s = 1
                    """)
            for index in 0..<4 { try fixture.drop("slow\(index).png", seed: 310 + UInt64(index)) }
            let out = Pipe()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: DaemonFixture.binary("imagedrop"))
            process.arguments = ["run", "--once", "--config", fixture.configPath]
            process.environment = fixture.environment
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            #expect(
                fixture.waitUntil(seconds: 30) { fixture.emulator.requestLog().contains { $0.method == "POST" } },
                "no upload got in flight")
            kill(process.processIdentifier, signal)
            let summary = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == code, "\(Daemon.signalName(signal)): \(summary)")
            #expect(
                ExitCodeTests.summary(summary).hasPrefix("0 uploaded, 0 already stored, 0 failed, 4 left in "),
                "\(summary)")
        }
    }

    @Test("run --once waits for a file still settling at start and for one written during the run, then exits 0")
    func onceWaitsForTheWatcher() throws {
        let fixture = try DaemonFixture(settleMillis: 2000)
        try fixture.drop("young.png", seed: 301)  // mtime now: younger than settle_ms when the start-up scan sees it
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
