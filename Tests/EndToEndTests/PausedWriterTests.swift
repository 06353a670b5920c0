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

/// A producer that pauses in the middle of a file for longer than `settle_ms` while a rescan passes (found by
/// the soak, seeds 1, 2, 4, 6): the scan saw an mtime older than `settle_ms` and took the half-written file.
@Suite("A writer that pauses mid-file", .serialized)
struct PausedWriterTests {
    @Test("a rescan during a long pause leaves the open file alone: one image, the complete bytes")
    func rescanDuringPause() throws {
        let fixture = try DaemonFixture(settleMillis: 300)
        // Rescans every second, so several pass while the writer is paused.
        let text = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
            .replacingOccurrences(of: "rescan_interval_s = 600", with: "rescan_interval_s = 1")
        try text.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        try fixture.start()
        let bytes = SampleImages.png(width: 200, height: 150, seed: 42)
        let path = fixture.inbox + "/paused.png"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        #expect(fd >= 0)
        let head = min(4_096, bytes.count / 2)
        _ = bytes[0..<head].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        // The pause is the scenario itself, not a wait for something: 2.5 s is over 8 settle periods and
        // at least two rescans.
        usleep(2_500_000)
        _ = bytes[head...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        #expect(fixture.waitForFinished(count: 1))
        let images = fixture.emulator.storedImages()
        #expect(images.count == 1, "stored sizes: \(images.map(\.size))")
        #expect(images.first?.sha256 == SHA256Hasher.hex(of: bytes))
        let jobs = try fixture.jobs()
        #expect(jobs.count == 1, "jobs: \(jobs.map { "\($0.size ?? -1):\($0.state)" })")
        #expect(jobs.first?.state == .done)
        #expect(fixture.stop() == 0)
    }

    @Test("a waiting job whose file is reopened and written with a long pause is not uploaded torn by a worker")
    func workerLeavesOpenFileAlone() throws {
        var emulator = EmulatorConfiguration()
        emulator.faults.refuseTokens = true  // holds the job queued (paused) until the rewrite has begun
        let fixture = try DaemonFixture(emulator: emulator, settleMillis: 300)
        try fixture.start()
        let first = SampleImages.png(width: 40, height: 40, seed: 71)
        let path = try fixture.drop("rewritten.png", bytes: first)
        #expect(
            fixture.waitUntil(seconds: 20) {
                (try? fixture.store().daemonRecord().paused) != nil && fixture.counts()[.queued] == 1
            })
        // Rewritten in place by a writer that pauses: the watcher sees IN_MODIFY, and no close for 3 s.
        let final = SampleImages.png(width: 200, height: 150, seed: 72)
        let fd = open(path, O_WRONLY | O_TRUNC)
        #expect(fd >= 0)
        let head = min(4_096, final.count / 2)
        _ = final[0..<head].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var faults = fixture.emulator.faults
        faults.refuseTokens = false
        fixture.emulator.setFaults(faults)
        // The probe (every second) resumes the queue while the writer is paused; workers claim the job.
        #expect(fixture.waitUntil(seconds: 20) { (try? fixture.store().daemonRecord().paused) == nil })
        usleep(3_000_000)  // the rest of the writer's pause: the scenario, not a wait for an event
        _ = final[head...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        Self.expectOnlyComplete(final, tornHead: head, fixture: fixture)
    }

    @Test("a file written into a folder before its watch was set, then paused, waits for its writer (soak seed 1517)")
    func writerUnseenInNewFolder() throws {
        let fixture = try DaemonFixture(settleMillis: 200)
        try fixture.start()
        let bytes = SampleImages.png(width: 200, height: 150, seed: 73)
        // mkdir -p and a write at once: the watcher sets the new folders' watches after the first chunk is
        // written, so it never sees that write (no IN_MODIFY); its scan of the new folder finds a quiet file.
        let folder = fixture.inbox + "/day \(UInt32.random(in: 0...UInt32.max))/deep/er"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let fd = open(folder + "/camera.png", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        #expect(fd >= 0)
        let head = min(4_096, bytes.count / 2)
        _ = bytes[0..<head].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        // The pause is the scenario: 10 settle periods.
        usleep(2_000_000)
        _ = bytes[head...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        Self.expectOnlyComplete(bytes, tornHead: head, fixture: fixture)
    }

    /// The writer is done: once the queue is idle, the emulator holds one image, the complete bytes.
    static func expectOnlyComplete(_ bytes: [UInt8], tornHead head: Int, fixture: DaemonFixture) {
        #expect(
            fixture.waitUntil(seconds: 30) {
                fixture.emulator.storedImages().contains { $0.sha256 == SHA256Hasher.hex(of: bytes) }
                    && fixture.counts()[.queued] == 0 && fixture.counts()[.uploading] == 0
            })
        let stored = fixture.emulator.storedImages()
        #expect(
            stored.count == 1, "stored sizes: \(stored.map(\.size)) (a torn \(head)-byte head must not be among them)")
        #expect(stored.first?.sha256 == SHA256Hasher.hex(of: bytes))
        #expect(fixture.stop() == 0)
    }
}
