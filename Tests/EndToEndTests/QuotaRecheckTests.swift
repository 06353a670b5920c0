import Foundation
import ImagedropStore
import ImagesEmulator
import Testing

/// DESIGN, "Ledger and account in agreement": the quota is read at start *and every 1,000 uploads*. Another
/// client fills the account behind the daemon's back; the re-read after the 1,000th upload finds it full and
/// pauses the queue before any upload meets a 5453.
@Suite("Image quota re-read every 1,000 uploads", .serialized)
struct QuotaRecheckTests {
    static func isStats(_ request: LoggedRequest) -> Bool {
        request.method == "GET" && request.path.hasSuffix("/images/v1/stats")
    }
    static func isUpload(_ request: LoggedRequest) -> Bool {
        request.method == "POST" && request.path.hasSuffix("/images/v1")
    }

    @Test(
        "quota 1,100; 100 images stored by another client after the start's read; 1,000 files: the re-read after the 1,000th upload pauses the queue (1,100 of 1,100) with no 5453; raised: the rest go"
    )
    func rereadAfterAThousandUploads() throws {
        var emulator = EmulatorConfiguration()
        emulator.faults.imageQuota = 1_100
        let fixture = try DaemonFixture(emulator: emulator, settleMillis: 0)
        try fixture.writeConfig(
            settleMillis: 0,
            uploadSection: """
                workers = 16
                backoff_initial_ms = 50
                backoff_max_ms = 2000
                request_timeout_s = 10
                shutdown_grace_s = 5
                pause_probe_s = 1
                requests_per_5min = 0
                """)
        try fixture.start()
        #expect(
            fixture.waitUntil(seconds: 20) { QuotaTests.quota(fixture)?["current"] as? Int == 0 },
            "the start's read: an empty account")

        // Another client stores 100 images: the daemon believes there is room for 1,100 until it reads again.
        let seeded = try HTTPEndpointTests.curl(
            fixture.emulator.baseURL + "/__emulator/seed", method: "POST",
            data: #"{"count": 100, "idPrefix": "elsewhere/"}"#)
        #expect(seeded.status == 200 && seeded.body.contains(#""seeded":100"#), "\(seeded.body)")
        for index in 0..<1_000 { try fixture.drop("t\(index).png", seed: UInt64(24_000 + index)) }

        // Waited for through the table (cheap to poll), then the pause through `status --json`.
        #expect(fixture.waitUntil(seconds: 150) { fixture.counts()[.done] == 1_000 }, "\(fixture.counts())")
        let full = "quota reached: 1100 of 1100 images stored"
        #expect(
            fixture.waitUntil(seconds: 20) { OutageTests.pausedReason(fixture) == full },
            "paused: \(OutageTests.pausedReason(fixture) ?? "no"), \(fixture.counts())")

        // Five more files while paused: they wait, unsent.
        let uploadsAtPause = fixture.emulator.requestLog().filter(Self.isUpload).count
        for index in 0..<5 { try fixture.drop("late\(index).png", seed: UInt64(25_000 + index)) }
        #expect(fixture.waitUntil(seconds: 20) { fixture.counts()[.queued] == 5 }, "\(fixture.counts())")
        usleep(1_500_000)  // more than pause_probe_s: a probe that resumed wrongly would have let an upload go
        let log = fixture.emulator.requestLog()
        #expect(log.filter(Self.isUpload).count == uploadsAtPause, "a paused queue sends nothing")
        #expect(!log.contains { $0.code == 5453 }, "the re-read paused the queue before any upload met a full account")

        // One read at start, none until the 1,000th upload, one after it: the count, not a clock, decides.
        var uploadsSoFar = 0
        var uploadsBeforeEachRead: [Int] = []
        for request in log {
            if Self.isUpload(request) { uploadsSoFar += 1 }
            if Self.isStats(request) { uploadsBeforeEachRead.append(uploadsSoFar) }
        }
        #expect(uploadsBeforeEachRead.count >= 2 && uploadsBeforeEachRead[0] == 0, "\(uploadsBeforeEachRead)")
        #expect(
            uploadsBeforeEachRead.dropFirst().allSatisfy { $0 >= 1_000 },
            "no read between the start's and the 1,000th upload: \(uploadsBeforeEachRead.prefix(4))")

        let raised = try HTTPEndpointTests.curl(
            fixture.emulator.baseURL + "/__emulator/faults", method: "PUT",
            data: #"{"imageQuota": 1105}"#)
        #expect(raised.status == 200)
        #expect(fixture.waitForFinished(count: 1_005, seconds: 60))
        #expect(fixture.counts()[.done] == 1_005 && (fixture.counts()[.failed] ?? 0) == 0, "\(fixture.counts())")
        #expect(fixture.stop() == 0)
    }
}
