import Foundation
import Glibc
import ImagedropStore
import ImagedropTestSupport
import ImagesEmulator
import Testing

/// Issue 25: from eight workers on, claims come in batches, and the jobs a batch holds for the next worker are
/// `uploading` with nothing sent. Whatever stops the workers taking them gives them back to the queue.
@Suite("Batched claims end to end", .serialized)
struct BatchedClaimTests {
    private static let eightWorkers = """
        workers = 8
        backoff_initial_ms = 50
        backoff_max_ms = 2000
        request_timeout_s = 10
        shutdown_grace_s = 10
        pause_probe_s = 1
        """

    private static func slowFixture(files: Int, seedBase: UInt64) throws -> DaemonFixture {
        var emulator = EmulatorConfiguration()
        emulator.faults.latencyMs = 300
        let fixture = try DaemonFixture(emulator: emulator, settleMillis: 0)
        try fixture.writeConfig(settleMillis: 0, uploadSection: eightWorkers)
        for index in 0..<files { try fixture.drop("b\(index).png", seed: seedBase + UInt64(index)) }
        return fixture
    }

    @Test("SIGTERM with a batch held: exit 0, nothing left uploading, each image stored once after a restart")
    func stopReturnsTheBatch() throws {
        let fixture = try Self.slowFixture(files: 60, seedBase: 7_100)
        try fixture.start()
        #expect(fixture.waitUntil(seconds: 20) { (fixture.counts()[.done] ?? 0) >= 8 })
        #expect(fixture.stop(signal: SIGTERM) == 0)
        let counts = fixture.counts()
        #expect(counts[.uploading] == 0, "\(counts)")
        #expect((counts[.done] ?? 0) < 60)
        #expect(try fixture.jobs().filter { $0.state == .queued }.allSatisfy { $0.attempts == 0 })
        try fixture.start()
        #expect(fixture.waitForFinished(count: 60, seconds: 60))
        #expect(fixture.counts()[.done] == 60)
        #expect(fixture.emulator.storedImages().count == 60)
        #expect(fixture.stop() == 0)
    }

    @Test("three files and eight idle workers: one batch claims all three, and the idle workers send them together")
    func heldJobsGoToIdleWorkers() throws {
        var emulator = EmulatorConfiguration()
        emulator.faults.latencyMs = 2_000
        let fixture = try DaemonFixture(emulator: emulator, settleMillis: 0)
        try fixture.writeConfig(settleMillis: 0, uploadSection: Self.eightWorkers)
        try fixture.start()
        // A folder of three moved in: the watcher queues them in one transaction and wakes every idle worker at
        // once; the first claim takes all three, the others find the table empty.
        let outside = fixture.directory + "/batch"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        for index in 0..<3 {
            try Data(SampleImages.png(width: 16, height: 16, seed: 7_500 + UInt64(index)))
                .write(to: URL(fileURLWithPath: outside + "/t\(index).png"))
        }
        #expect(rename(outside, fixture.inbox + "/batch") == 0)
        #expect(fixture.waitForFinished(count: 3, seconds: 30))
        let posts = fixture.emulator.requestLog().filter { $0.method == "POST" }.map(\.receivedAtMillis)
        #expect(posts.count == 3)
        // One worker sending them one after another would space them by the 2 s reply; idle workers do not wait.
        let spread = (posts.max() ?? 0) - (posts.min() ?? 0)
        #expect(spread < 1_000, "held jobs waited for a busy worker: the three POSTs span \(spread) ms")
        #expect(fixture.stop() == 0)
    }

    @Test("an operator pause with a batch held: once the requests in flight end, nothing is left uploading")
    func pauseReturnsTheBatch() throws {
        let fixture = try Self.slowFixture(files: 60, seedBase: 7_300)
        try fixture.start()
        #expect(fixture.waitUntil(seconds: 20) { (fixture.counts()[.done] ?? 0) >= 8 })
        #expect(try fixture.runCommand(["pause", "--config", fixture.configPath]).0 == 0)
        #expect(
            fixture.waitUntil(seconds: 10) { fixture.counts()[.uploading] == 0 },
            "held jobs stay uploading under a pause: \(fixture.counts())")
        let sent = fixture.emulator.requestLog().filter { $0.method == "POST" }.count
        usleep(1_500_000)
        #expect(fixture.counts()[.uploading] == 0)
        #expect(fixture.emulator.requestLog().filter { $0.method == "POST" }.count == sent)
        #expect(try fixture.runCommand(["resume", "--config", fixture.configPath]).0 == 0)
        #expect(fixture.waitForFinished(count: 60, seconds: 60))
        #expect(fixture.emulator.storedImages().count == 60)
        #expect(fixture.stop() == 0)
    }
}
