import Foundation
import Glibc
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import ImagedropTestSupport
import ImagesEmulator
import Testing

/// Issue 4, "Done when" (fault injection): the real daemon against the emulator's seeded faults.
@Suite("Fault injection", .serialized)
struct FaultInjectionTests {
    static let fastUpload = """
        workers = 4
        max_attempts = 25
        backoff_initial_ms = 50
        backoff_max_ms = 1000
        request_timeout_s = 10
        shutdown_grace_s = 5
        pause_probe_s = 1
        """

    static func uploads(_ log: [LoggedRequest]) -> [LoggedRequest] {
        log.filter { $0.method == "POST" && $0.path.hasSuffix("/images/v1") }
    }

    @Test("30% 5xx and 10% 429 with Retry-After: every file done, no retry sooner than its Retry-After")
    func serverErrorsAndRateLimits() throws {
        var emulator = EmulatorConfiguration()
        emulator.faults.seed = 42
        emulator.faults.serverErrorProbability = 0.3
        emulator.faults.rateLimitProbability = 0.1
        emulator.faults.retryAfterSeconds = 1
        let fixture = try DaemonFixture(emulator: emulator, settleMillis: 0)
        try fixture.writeConfig(settleMillis: 0, uploadSection: Self.fastUpload)
        let count = 60
        for index in 0..<count { try fixture.drop("f\(index).png", seed: UInt64(1000 + index)) }
        try fixture.start()
        #expect(fixture.waitForFinished(count: count, seconds: 180))
        let jobs = try fixture.jobs()
        #expect(jobs.count == count)
        #expect(
            jobs.allSatisfy { $0.state == .done },
            "\(jobs.filter { $0.state != .done }.map { "\($0.path): \($0.lastError ?? "")" })")

        let log = fixture.emulator.requestLog()
        let uploads = Self.uploads(log).sorted { $0.receivedAtMillis < $1.receivedAtMillis }
        let serverErrors = log.filter { $0.fault == "server-error" }.count
        let rateLimited = log.filter { $0.status == 429 }.count
        var tooEarly: [String] = []
        var checked = 0
        for (index, refused) in uploads.enumerated() where refused.status == 429 {
            guard let sha = refused.fileSHA256 else { continue }
            guard let next = uploads[(index + 1)...].first(where: { $0.fileSHA256 == sha }) else { continue }
            checked += 1
            let waited = next.receivedAtMillis - refused.receivedAtMillis
            if waited < 1000 - 50 { tooEarly.append("\(sha.prefix(8)) after \(waited) ms") }
        }
        // Retry-After stops the whole pool (the budget is the account's): nothing at all is sent inside it.
        var poolTooEarly = 0
        let sorted = log.sorted { $0.receivedAtMillis < $1.receivedAtMillis }
        for (index, refused) in sorted.enumerated() where refused.status == 429 {
            if let next = sorted[(index + 1)...].first, next.receivedAtMillis - refused.receivedAtMillis < 1000 - 50,
                next.receivedAtMillis - refused.receivedAtMillis > 50
            {
                poolTooEarly += 1
            }
        }
        print(
            """
            [fault 5xx+429] files=\(count) done=\(jobs.filter { $0.state == .done }.count) requests=\(log.count) \
            upload attempts=\(uploads.count) 5xx=\(serverErrors) 429=\(rateLimited) \
            retries-after-429 checked=\(checked) too-early=\(tooEarly.count) \
            any-request-inside-a-Retry-After=\(poolTooEarly) stored=\(fixture.emulator.storedImages().count)
            """)
        #expect(serverErrors > 0 && rateLimited > 0)
        #expect(checked > 0)
        #expect(tooEarly.isEmpty, "\(tooEarly)")
        #expect(Set(fixture.emulator.storedImages().map(\.sha256)).count == count)
        #expect(fixture.emulator.storedImages().count == count)
        #expect(jobs.reduce(0) { $0 + $1.attempts } >= count)
        fixture.stop()
    }

    @Test("the connection closed after the image was stored: every file done, exactly one image per file")
    func closeAfterStore() throws {
        var emulator = EmulatorConfiguration()
        emulator.faults.seed = 7
        emulator.faults.closeAfterStoreProbability = 0.3
        let fixture = try DaemonFixture(emulator: emulator, settleMillis: 0)
        try fixture.writeConfig(settleMillis: 0, uploadSection: Self.fastUpload)
        let count = 50
        for index in 0..<count { try fixture.drop("c\(index).png", seed: UInt64(2000 + index)) }
        try fixture.start()
        #expect(fixture.waitForFinished(count: count, seconds: 120))
        let jobs = try fixture.jobs()
        let images = fixture.emulator.storedImages()
        let log = fixture.emulator.requestLog()
        let lost = log.filter { $0.fault == "close-after-store" }.count
        let conflicts = log.filter { $0.status == 409 }.count
        print(
            """
            [fault close-after-store] files=\(count) done=\(jobs.filter { $0.state == .done }.count) \
            replies lost after store=\(lost) 409s=\(conflicts) stored=\(images.count) \
            distinct sha256=\(Set(images.map(\.sha256)).count)
            """)
        #expect(lost > 0)
        #expect(jobs.count == count && jobs.allSatisfy { $0.state == .done })
        #expect(images.count == count)
        #expect(Set(images.map(\.sha256)).count == count)
        // Each done job points at the image holding its bytes.
        let byID = Dictionary(uniqueKeysWithValues: images.map { ($0.id, $0.sha256) })
        #expect(jobs.allSatisfy { $0.imageID != nil && byID[$0.imageID!] == $0.sha256 })
        fixture.stop()
    }

    @Test("a 400-class reply (5411, invalid custom id) fails the job after exactly one attempt, with the code")
    func permanentRejection() throws {
        // A real refusal the local pre-flight cannot foresee: with path ids, a name holding a control character
        // makes a custom id the API refuses (400, code 5411 "Must not contain control characters").
        let fixture = try DaemonFixture(settleMillis: 0, extraConfig: "[images]\nid = \"path\"\n")
        try fixture.start()
        let bad = try fixture.drop("tab\there.png", seed: 3001)
        try fixture.drop("fine.png", seed: 3002)
        #expect(fixture.waitForFinished(count: 2))
        let jobs = try fixture.jobs()
        let job = try #require(jobs.first { $0.path.display == bad })
        let uploads = Self.uploads(fixture.emulator.requestLog())
        let sha = SHA256Hasher.hex(of: SampleImages.png(width: 16, height: 16, seed: 3001))
        print(
            "[fault 4xx] state=\(job.state.rawValue) attempts=\(job.attempts) code=\(job.lastCode ?? -1) "
                + "error=\(job.lastError ?? "") requests for the file=\(uploads.filter { $0.fileSHA256 == sha }.count)")
        #expect(job.state == .failed)
        #expect(job.attempts == 1)
        #expect(job.lastCode == 5411)
        #expect(job.lastError?.contains("5411") == true)
        #expect(uploads.filter { $0.fileSHA256 == sha }.count == 1)
        #expect(jobs.first { $0.path.display.hasSuffix("fine.png") }?.state == .done)
        fixture.stop()
    }

    @Test("a refused token pauses the queue without burning attempts; once accepted every file is done")
    func tokenRefusedThenAccepted() throws {
        var emulator = EmulatorConfiguration()
        emulator.faults.refuseTokens = true
        let fixture = try DaemonFixture(emulator: emulator, settleMillis: 0)
        try fixture.writeConfig(settleMillis: 0, uploadSection: Self.fastUpload)
        let count = 20
        for index in 0..<count { try fixture.drop("t\(index).png", seed: UInt64(4000 + index)) }
        try fixture.start()
        var pausedReason: String?
        let paused = fixture.waitUntil(seconds: 30) {
            guard
                let (status, output, _) = try? fixture.runCommand(["status", "--config", fixture.configPath, "--json"]),
                status == 0,
                let object = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
                let daemon = object["daemon"] as? [String: Any], let reason = daemon["paused"] as? String
            else { return false }
            pausedReason = reason
            return (object["jobs"] as? [String: Int])?["total"] == count
        }
        #expect(paused)
        // Let the prober re-try the refused token a few times (pause_probe_s = 1) before accepting it.
        let refusalsBefore = fixture.emulator.requestLog().filter { $0.status == 401 }.count
        #expect(
            fixture.waitUntil(seconds: 10) {
                fixture.emulator.requestLog().filter { $0.status == 401 }.count >= refusalsBefore + 2
            })
        let whilePaused = fixture.counts()
        #expect(whilePaused[.failed] ?? 0 == 0)
        #expect(try fixture.jobs().allSatisfy { $0.attempts == 0 })

        var faults = fixture.emulator.faults
        faults.refuseTokens = false
        fixture.emulator.setFaults(faults)
        #expect(fixture.waitForFinished(count: count, seconds: 60))
        let jobs = try fixture.jobs()
        let refusals = fixture.emulator.requestLog().filter { $0.status == 401 }.count
        print(
            "[fault token] paused=\"\(pausedReason ?? "")\" 401s=\(refusals) done=\(jobs.filter { $0.state == .done }.count) "
                + "failed=\(jobs.filter { $0.state == .failed }.count) attempts=\(jobs.map(\.attempts))")
        #expect(pausedReason?.contains("token refused") == true)
        #expect(jobs.count == count && jobs.allSatisfy { $0.state == .done })
        #expect(jobs.allSatisfy { $0.attempts == 1 })
        #expect(fixture.emulator.storedImages().count == count)
        let record = try fixture.store().daemonRecord()
        #expect(record.paused == nil)
        fixture.stop()
    }

    @Test("the rate limit at 60 per 30 s: the daemon keeps to it (no 429 at all) and does not leave half of it unused")
    func rateLimitBudget() throws {
        var emulator = EmulatorConfiguration()
        emulator.rateLimitRequests = 60
        emulator.rateLimitWindowSeconds = 30
        let fixture = try DaemonFixture(emulator: emulator, settleMillis: 0)
        try fixture.writeConfig(
            settleMillis: 0, uploadSection: Self.fastUpload + "\nrequests_per_5min = 60\nrate_window_s = 30")
        let count = 150
        for index in 0..<count { try fixture.drop("r\(index).png", seed: UInt64(5000 + index)) }
        try fixture.start()
        #expect(fixture.waitForFinished(count: count, seconds: 150))
        let log = fixture.emulator.requestLog().sorted { $0.receivedAtMillis < $1.receivedAtMillis }
        let refused = log.filter { $0.status == 429 }.count
        let accepted = log.filter { $0.status != 429 }
        let start = try #require(accepted.first?.receivedAtMillis)
        // Fixed 30 s windows from the first request, while there was still a backlog (the last window is
        // partial: only what was left).
        var perWindow: [Int] = []
        var windowStart = start
        while windowStart <= accepted.last!.receivedAtMillis {
            perWindow.append(
                accepted.filter { $0.receivedAtMillis >= windowStart && $0.receivedAtMillis < windowStart + 30_000 }
                    .count)
            windowStart += 30_000
        }
        // The most accepted in any sliding 30 s window must not exceed 60.
        var maxSliding = 0
        for (index, request) in accepted.enumerated() {
            maxSliding = max(
                maxSliding, accepted[index...].prefix { $0.receivedAtMillis < request.receivedAtMillis + 30_000 }.count)
        }
        let full = perWindow.dropLast()
        let used = full.map { Double($0) / 60 }
        let seconds = Double(accepted.last!.receivedAtMillis - start) / 1000
        print(
            """
            [fault rate-limit] files=\(count) requests=\(log.count) 429=\(refused) span=\(seconds) s \
            accepted per 30 s window=\(perWindow) budget used in full windows=\(used.map { String(format: "%.0f%%", $0 * 100) }) \
            max in any sliding 30 s window=\(maxSliding)/60
            """)
        #expect(refused == 0)
        #expect(maxSliding <= 60)
        #expect(!full.isEmpty)
        // How much of the budget is used is a throughput figure, measured by the bench (its `budget` figure: ≥ 98 %
        // on a quiet machine); under the full suite's load the daemon's threads can be starved for seconds, so
        // this asks only what a wrong wait would break: a daemon that sleeps a window too long, or holds the
        // grants it reserved, leaves half of a window unused.
        #expect(used.allSatisfy { $0 >= 0.5 })
        #expect(try fixture.jobs().allSatisfy { $0.state == .done })
        fixture.stop()
    }
}
