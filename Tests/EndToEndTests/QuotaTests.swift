import Foundation
import ImagedropStore
import ImagedropSupport
import ImagesEmulator
import Testing

/// Code 5453, the account's image quota: the queue pauses as for a refused token (no job fails, none is charged
/// an attempt), `status` says why, and the prober's stats read resumes it once the account has room.
@Suite("Image quota end to end", .serialized)
struct QuotaTests {
    @Test(
        "quota 3, five files: 3 done, 2 queued with no attempt while status shows the pause; raised through the admin route: all 5 done, none failed"
    )
    func pauseUntilRoom() throws {
        var emulator = EmulatorConfiguration()
        emulator.faults.imageQuota = 3
        let fixture = try DaemonFixture(emulator: emulator)
        try fixture.start()
        for index in 0..<5 { try fixture.drop("q\(index).png", seed: UInt64(530 + index)) }

        // The prober reads the stats every pause_probe_s (1 s here) and names the count once it has.
        let full = "quota reached: 3 of 3 images stored"
        #expect(
            fixture.waitUntil(seconds: 30) { OutageTests.pausedReason(fixture) == full },
            "paused: \(OutageTests.pausedReason(fixture) ?? "no") \(fixture.log)")
        let counts = fixture.counts()
        #expect(counts[.done] == 3 && counts[.queued] == 2 && (counts[.failed] ?? 0) == 0, "\(counts)")
        #expect(
            try fixture.jobs().filter { $0.state == .queued }.allSatisfy { $0.attempts == 0 },
            "a full quota charges no attempt")
        let refusals = fixture.emulator.requestLog().filter { $0.code == 5453 }
        // One per job in flight when the first 5453 came back (two files were left), and at most one more: a stats
        // read that raced the third upload's store can see room and resume once. Nothing after the pause settles.
        #expect((1...3).contains(refusals.count), "a paused queue sends nothing more: \(refusals.count)")
        #expect(refusals.allSatisfy { $0.status == 400 })
        // The worker that got the 5453 paused with Cloudflare's own words first.
        #expect(
            fixture.log.contains("quota reached: The given account has reached a service limit (3)"), "\(fixture.log)")
        let (checkStatus, line, _) = try fixture.runCommand(["status", "--check", "--config", fixture.configPath])
        #expect(checkStatus == 2, "status --check: running but paused")
        #expect(line.contains(full), "\(line)")

        let raised = try HTTPEndpointTests.curl(
            fixture.emulator.baseURL + "/__emulator/faults", method: "PUT",
            data: #"{"imageQuota": 5}"#)
        #expect(raised.status == 200 && raised.body.contains(#""imageQuota":5"#), "\(raised.body)")
        #expect(fixture.waitForFinished(count: 5))
        let jobs = try fixture.jobs()
        #expect(
            jobs.count == 5 && jobs.allSatisfy { $0.state == .done && $0.attempts == 1 },
            "\(jobs.map { "\($0.state) \($0.attempts) \($0.lastError ?? "")" })")
        #expect(fixture.waitUntil(seconds: 10) { OutageTests.pausedReason(fixture) == nil })
        #expect(fixture.log.contains("image quota has room again; queue resumed"))
        #expect(fixture.emulator.storedImages().count == 5)
        #expect(fixture.stop() == 0)
    }

    static func statusObject(_ fixture: DaemonFixture) -> [String: Any]? {
        guard let (status, out, _) = try? fixture.runCommand(["status", "--config", fixture.configPath, "--json"]),
            status == 0
        else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]
    }

    static func quota(_ fixture: DaemonFixture) -> [String: Any]? { statusObject(fixture)?["quota"] as? [String: Any] }

    @Test(
        "quota 10, 15 files: 10 done, 5 queued, status --json shows the pause and the quota; raised to 15: all 15 done")
    func pausesAtTheQuotaAndShowsIt() throws {
        var emulator = EmulatorConfiguration()
        emulator.faults.imageQuota = 10
        let fixture = try DaemonFixture(emulator: emulator)
        try fixture.start()
        // The start's stats read is recorded before any upload: the account is empty.
        #expect(fixture.waitUntil(seconds: 10) { Self.quota(fixture)?["allowed"] as? Int == 10 })
        for index in 0..<15 { try fixture.drop("s\(index).png", seed: UInt64(8_300 + index)) }

        let full = "quota reached: 10 of 10 images stored"
        #expect(
            fixture.waitUntil(seconds: 30) { OutageTests.pausedReason(fixture) == full },
            "paused: \(OutageTests.pausedReason(fixture) ?? "no") \(fixture.log)")
        let counts = fixture.counts()
        #expect(counts[.done] == 10 && counts[.queued] == 5 && (counts[.failed] ?? 0) == 0, "\(counts)")
        let quota = try #require(Self.quota(fixture))
        #expect(quota["allowed"] as? Int == 10 && quota["current"] as? Int == 10, "\(quota)")
        let checked = try #require(quota["checked_at"] as? String)
        #expect(checked.hasSuffix("Z") && Timestamp.parseISO8601(checked) != nil, "\(checked)")
        let (_, text, _) = try fixture.runCommand(["status", "--config", fixture.configPath])
        #expect(text.contains("quota:    10 of 10 images stored (checked "), "\(text)")

        let raised = try HTTPEndpointTests.curl(
            fixture.emulator.baseURL + "/__emulator/faults", method: "PUT",
            data: #"{"imageQuota": 15}"#)
        #expect(raised.status == 200)
        #expect(fixture.waitForFinished(count: 15))
        #expect(fixture.counts()[.done] == 15)
        #expect(fixture.waitUntil(seconds: 10) { OutageTests.pausedReason(fixture) == nil })
        #expect(Self.quota(fixture)?["allowed"] as? Int == 15, "the stats that lifted the pause are what status shows")
        #expect(fixture.stop() == 0)
    }

    @Test("an account already full when the daemon starts: it pauses on the start's stats read and sends no upload")
    func startReadPausesBeforeAnyUpload() throws {
        var emulator = EmulatorConfiguration()
        emulator.faults.imageQuota = 4
        let fixture = try DaemonFixture(emulator: emulator)
        for index in 0..<4 { try fixture.drop("f\(index).png", seed: UInt64(8_400 + index)) }
        let (ran, _, ranError) = try fixture.runCommand(["run", "--once", "-q", "--config", fixture.configPath])
        #expect(ran == 0 && fixture.counts()[.done] == 4, "\(ranError)")

        try fixture.drop("f4.png", seed: 8_404)
        let posts = fixture.emulator.requestLog().filter { $0.method == "POST" }.count
        try fixture.start()
        #expect(
            fixture.waitUntil(seconds: 20) {
                OutageTests.pausedReason(fixture) == "quota reached: 4 of 4 images stored"
            },
            "\(fixture.log)")
        #expect(fixture.waitUntil(seconds: 10) { fixture.counts()[.queued] == 1 }, "\(fixture.counts())")
        #expect(
            fixture.emulator.requestLog().filter { $0.method == "POST" }.count == posts,
            "nothing sent to a full account")
        #expect(!fixture.emulator.requestLog().contains { $0.code == 5453 })
        #expect(fixture.stop() == 0)
    }
}
