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

/// The whole path — inotify → job table → workers → emulator over loopback → id and variants written
/// back — driven through the real `imagedrop run` binary.
@Suite("Pipeline end to end", .serialized)
struct PipelineTests {
    @Test("files present at start-up and files dropped while running are uploaded with ids and variants")
    func startupAndLiveFiles() throws {
        let fixture = try DaemonFixture()
        try fixture.drop("before-1.png", seed: 1)
        try fixture.drop("before-2.png", seed: 2)
        try fixture.start()
        try fixture.drop("live.png", seed: 3)
        #expect(fixture.waitForFinished(count: 3))
        let jobs = try fixture.jobs()
        #expect(jobs.count == 3)
        for job in jobs {
            #expect(job.state == .done, "\(job.path): \(job.lastError ?? "")")
            #expect(job.imageID?.count == 64)
            #expect(job.variants.count == 2)
            #expect(job.variants.first?.hasPrefix("https://imagedelivery.net/") == true)
            #expect(job.uploadedAt?.hasSuffix("Z") == true)
        }
        #expect(fixture.emulator.storedImages().count == 3)
        #expect(fixture.stop() == 0)
    }

    @Test("a file written slowly in many chunks is uploaded once, complete")
    func slowWriter() throws {
        let fixture = try DaemonFixture(settleMillis: 300)
        try fixture.start()
        let bytes = SampleImages.png(width: 64, height: 64, seed: 7)
        let path = fixture.inbox + "/slow.png"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var offset = 0
        let chunk = max(1, bytes.count / 20)
        while offset < bytes.count {
            let end = min(offset + chunk, bytes.count)
            _ = bytes[offset..<end].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            offset = end
            usleep(30_000)
        }
        close(fd)
        #expect(fixture.waitForFinished(count: 1))
        let images = fixture.emulator.storedImages()
        #expect(images.count == 1)
        #expect(images.first?.sha256 == SHA256Hasher.hex(of: bytes))
        #expect(images.first?.size == bytes.count)
        fixture.stop()
    }

    @Test("a file renamed in and a freshly created nested folder are both picked up")
    func renameAndNestedFolder() throws {
        let fixture = try DaemonFixture()
        try fixture.start()
        let outside = fixture.directory + "/outside.png"
        try writeFile(atPath: outside, contents: Data(SampleImages.png(width: 8, height: 8, seed: 11)))
        rename(outside, fixture.inbox + "/renamed-in.png")
        // mkdir -p a/b/c && cp x.png a/b/c/ — the file may land before the watch on c exists.
        try FileManager.default.createDirectory(atPath: fixture.inbox + "/a/b/c", withIntermediateDirectories: true)
        try writeFile(
            atPath: fixture.inbox + "/a/b/c/deep.png",
            contents: Data(SampleImages.png(width: 8, height: 8, seed: 12)))
        #expect(fixture.waitForFinished(count: 2))
        let paths = Set(try fixture.jobs().filter { $0.state == .done }.map(\.path.display))
        #expect(paths == [fixture.inbox + "/renamed-in.png", fixture.inbox + "/a/b/c/deep.png"])
        fixture.stop()
    }

    @Test("names with spaces, unicode, quotes, newlines and invalid UTF-8 keep pointing at the right file")
    func awkwardNames() throws {
        let fixture = try DaemonFixture()
        try fixture.start()
        let names = ["with space.png", "ünïcødé 画像.png", "quote\"and'apostrophe.png", "new\nline.png"]
        for (index, name) in names.enumerated() { try fixture.drop(name, seed: UInt64(100 + index)) }
        // A name that is not valid UTF-8 (Latin-1 é): the job must keep the exact bytes.
        let rawName: [UInt8] = Array("caf".utf8) + [0xE9] + Array(".png".utf8)
        let rawPath = RawPath(fixture.inbox).appending(rawName)
        let bytes = SampleImages.png(width: 8, height: 8, seed: 200)
        let fd = rawPath.withCString { open($0, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        #expect(fixture.waitForFinished(count: 5))
        let jobs = try fixture.jobs()
        #expect(jobs.allSatisfy { $0.state == .done })
        let raw = try #require(jobs.first { $0.path == rawPath })
        #expect(raw.path.display.contains("\u{FFFD}"))
        #expect(!raw.path.isValidUTF8)
        for name in names { #expect(jobs.contains { $0.path.display == fixture.inbox + "/" + name }) }
        let filenames = Set(fixture.emulator.storedImages().compactMap(\.filename))
        #expect(filenames.contains("with space.png"))
        #expect(filenames.contains("ünïcødé 画像.png"))
        fixture.stop()
    }

    @Test("1,000 files dropped at once all end done, each uploaded once; status --json matches the table")
    func thousandFiles() throws {
        let fixture = try DaemonFixture(settleMillis: 0)
        try fixture.start()
        for index in 0..<1000 {
            try fixture.drop(
                "burst-\(index).png", bytes: SampleImages.png(width: 8, height: 8, seed: UInt64(10_000 + index)))
        }
        #expect(fixture.waitForFinished(count: 1000, seconds: 180))
        let uploads = fixture.emulator.requestLog().filter { $0.method == "POST" && $0.status == 200 }
        #expect(uploads.count == 1000)
        #expect(Set(fixture.emulator.storedImages().map(\.sha256)).count == 1000)

        let (status, output, _) = try fixture.runCommand(["status", "--config", fixture.configPath, "--json"])
        #expect(status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        let jobs = try #require(object["jobs"] as? [String: Int])
        #expect(jobs["done"] == 1000)
        #expect(jobs["total"] == 1000)
        #expect(jobs["queued"] == 0 && jobs["uploading"] == 0 && jobs["retrying"] == 0 && jobs["failed"] == 0)
        let daemon = try #require(object["daemon"] as? [String: Any])
        #expect(daemon["running"] as? Bool == true)
        #expect(daemon["pid"] as? Int == Int(fixture.process!.processIdentifier))
        #expect(object["oldest_waiting_s"] is NSNull)
        #expect((object["recent_failures"] as? [Any])?.isEmpty == true)
        fixture.stop()
    }

    @Test("SIGTERM during uploads exits 0 and leaves nothing uploading; a restart finishes the rest")
    func sigtermDuringUploads() throws {
        var emulator = EmulatorConfiguration()
        emulator.faults.latencyMs = 200
        let fixture = try DaemonFixture(emulator: emulator, settleMillis: 0)
        for index in 0..<40 { try fixture.drop("t\(index).png", seed: UInt64(500 + index)) }
        try fixture.start()
        #expect(fixture.waitUntil(seconds: 20) { (fixture.counts()[.done] ?? 0) >= 4 })
        #expect(fixture.stop(signal: SIGTERM) == 0)
        let counts = fixture.counts()
        #expect(counts[.uploading] == 0)
        #expect((counts[.done] ?? 0) < 40)
        try fixture.start()
        #expect(fixture.waitForFinished(count: 40))
        #expect(fixture.counts()[.done] == 40)
        #expect(Set(fixture.emulator.storedImages().map(\.sha256)).count == 40)
        #expect(fixture.emulator.storedImages().count == 40)
        #expect(fixture.stop() == 0)
    }

    @Test("a second daemon on the same database refuses to start with exit 75 and names the pid")
    func secondDaemonRefused() throws {
        let fixture = try DaemonFixture()
        try fixture.start()
        let (status, _, error) = try fixture.runCommand(["run", "--config", fixture.configPath])
        #expect(status == 75)
        #expect(error.contains("pid \(fixture.process!.processIdentifier)"))
        fixture.stop()
    }

    @Test("a symlink inside the tree is one job, however often the tree is scanned again")
    func symlinkIsOneJob() throws {
        let fixture = try DaemonFixture(settleMillis: 0)
        let real = try fixture.drop("real.png", seed: 900)
        try FileManager.default.createSymbolicLink(atPath: fixture.inbox + "/link.png", withDestinationPath: real)
        try fixture.start()
        #expect(fixture.waitForFinished(count: 2))
        fixture.stop()
        try fixture.start()  // the start-up scan sees both names again
        #expect(fixture.waitForFinished(count: 2))
        fixture.stop()
        let jobs = try fixture.jobs()
        #expect(jobs.count == 2, "\(jobs.map(\.path.display))")
        #expect(jobs.allSatisfy { $0.state == .done })
        #expect(fixture.emulator.storedImages().count == 1, "same bytes: one image")
    }

    @Test("a second SIGTERM during the grace period cuts in-flight uploads short: exit 0, nothing left uploading")
    func secondSignalEndsGrace() throws {
        let (fixture, pid) = try DaemonFixture.withTwoUploadsInFlight(seedBase: 950)
        kill(pid, SIGTERM)
        #expect(fixture.waitUntil(seconds: 10) { fixture.log.contains("msg=\"stopping on SIGTERM") })
        #expect(fixture.process?.isRunning == true, "the first signal waits for in-flight uploads")
        // Without the second signal this would wait out the 120 s grace period (or the 20 s replies).
        #expect(fixture.stop(signal: SIGTERM, timeout: 15) == 0)
        #expect(fixture.log.contains("second stop signal"))
        #expect(fixture.counts()[.uploading] == 0)
        #expect(fixture.counts()[.queued] == 4)
    }
}
