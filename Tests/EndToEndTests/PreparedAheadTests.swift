import Foundation
import Glibc
import ImagedropStore
import ImagesEmulator
import Testing

/// Pipelined workers: the next job is claimed and pre-flighted while a worker's request is in flight, and a
/// prepared job is only ever sent under the config in force when it goes out.
@Suite("Prepared ahead", .serialized)
struct PreparedAheadTests {
    static func oneWorker(latencyMs: Int) throws -> DaemonFixture {
        var emulator = EmulatorConfiguration()
        emulator.faults.latencyMs = latencyMs
        let fixture = try DaemonFixture(emulator: emulator, settleMillis: 0)
        try fixture.writeConfig(
            settleMillis: 0,
            uploadSection: """
                workers = 1
                request_timeout_s = 30
                shutdown_grace_s = 30
                """)
        return fixture
    }

    static func posts(_ fixture: DaemonFixture) -> Int {
        fixture.emulator.requestLog().filter { $0.method == "POST" }.count
    }

    @Test(
        "while the one worker's request is in flight the next job is already pre-flighted; a stop gives it back unsent")
    func nextJobPreparedDuringTheRequest() throws {
        let fixture = try Self.oneWorker(latencyMs: 3_000)
        for name in ["a.png", "b.png", "c.png"] { _ = try fixture.drop(name, seed: UInt64(name.utf8.first!) + 77_000) }
        try fixture.start()
        // One request out, and one job held ready for the worker (claimed, opened, hashed, probed); the third waits.
        #expect(
            fixture.waitUntil(seconds: 20) { Self.posts(fixture) == 1 && (fixture.counts()[.uploading] ?? 0) == 2 },
            "\(fixture.counts()) \(fixture.log)")
        #expect(Self.posts(fixture) == 1, "nothing is sent for the prepared job while the worker is busy")
        // One SIGTERM: the stop waits for the request in flight only; the prepared job has sent nothing.
        #expect(fixture.stop(timeout: 30) == 0)
        #expect(fixture.log.contains("for 1 upload in flight"), "\(fixture.log)")
        let counts = fixture.counts()
        #expect(counts[.done] == 1 && counts[.queued] == 2 && (counts[.uploading] ?? 0) == 0, "\(counts)")
        #expect(Self.posts(fixture) == 1)
    }

    @Test("a reload between preparation and send: the prepared job goes out under the new config")
    func reloadedConfigWinsOverPreparation() throws {
        let fixture = try Self.oneWorker(latencyMs: 1_500)
        _ = try fixture.drop("first.png", seed: 77_201)
        _ = try fixture.drop("second.png", seed: 77_202)
        try fixture.start()
        #expect(
            fixture.waitUntil(seconds: 20) { Self.posts(fixture) == 1 && (fixture.counts()[.uploading] ?? 0) == 2 },
            "\(fixture.counts()) \(fixture.log)")
        // Prepared under content-hash ids; the reload switches to path ids before the worker is free.
        var config = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        config += "\n[images]\nid = \"path\"\n"
        try config.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        kill(fixture.process!.processIdentifier, SIGHUP)
        #expect(fixture.waitForFinished(count: 2, seconds: 30), "\(fixture.log)")
        #expect(fixture.stop() == 0)
        let ids = Set(fixture.emulator.storedImages().map(\.id))
        #expect(ids.count == 2, "\(ids)")
        // The one in flight at the reload kept its content-hash id; the prepared one was planned again.
        #expect(
            ids.filter { $0.count == 64 }.count == 1 && ids.filter { $0.hasSuffix(".png") }.count == 1,
            "the prepared job goes out with a path id: \(ids)")
    }

    @Test("a URL job behind a busy worker is held ready once and then sent, not claimed over and over")
    func urlJobHeldReady() throws {
        var emulator = EmulatorConfiguration()
        emulator.faults.latencyMs = 2_000
        emulator.fetchTimeoutMillis = 500
        let fixture = try DaemonFixture(emulator: emulator, settleMillis: 0)
        try fixture.writeConfig(settleMillis: 0, uploadSection: "workers = 1\nrequest_timeout_s = 30")
        let origin = try OriginServer(directory: fixture.directory + "/origin")
        _ = try origin.serve("remote.png", seed: 77_301)
        _ = try fixture.drop("local.png", seed: 77_302)
        try fixture.start()
        #expect(fixture.waitUntil(seconds: 20) { Self.posts(fixture) == 1 }, "\(fixture.log)")
        let (status, _, err) = try fixture.runCommand([
            "enqueue", "--config", fixture.configPath, "--url",
            origin.baseURL + "/files/remote.png",
        ])
        #expect(status == 0, "\(err)")
        // Held by the preparer while the worker is busy: `uploading`, and it stays so (a claim-release loop
        // would show it `queued` between claims and churn updated_at).
        #expect(fixture.waitUntil(seconds: 10) { (fixture.counts()[.uploading] ?? 0) == 2 }, "\(fixture.counts())")
        let held = try #require(try fixture.jobs().first { $0.kind == .url })
        // Watched until it is done, the whole time it is held: every claim and release writes updated_at, so a
        // claim-release loop shows up as `queued` or as `uploading` under a later updated_at.
        var churn: [String] = []
        #expect(
            fixture.waitUntil(seconds: 30) {
                guard let job = try? fixture.jobs().first(where: { $0.kind == .url }) else { return false }
                if job.state == .queued || (job.state == .uploading && job.updatedAt != held.updatedAt) {
                    churn.append("\(job.state) at \(job.updatedAt)")
                }
                return job.state == .done
            }, "\(fixture.log)")
        #expect(churn.isEmpty, "held once, not claimed again: \(churn)")
        #expect(fixture.waitForFinished(count: 2, seconds: 30), "\(fixture.log)")
        #expect(try fixture.jobs().allSatisfy { $0.state == .done }, "\(fixture.log)")
        #expect(fixture.stop() == 0)
    }
}
