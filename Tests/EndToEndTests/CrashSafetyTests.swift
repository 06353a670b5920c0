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

/// Issue 4, "Done when" (crash test): kill -9 at random moments, restart, and still exactly one image per file.
@Suite("Crash safety", .serialized)
struct CrashSafetyTests {

    @Test("500 files, SIGKILL at 20 random moments and a restart each time: every file done, exactly 500 images")
    func killNineTwentyTimes() throws {
        var emulator = EmulatorConfiguration()
        // Latency so that kills land while uploads are in flight; no injected lost replies: the kills make them.
        emulator.faults.latencyMs = 30
        emulator.faults.closeAfterStoreProbability = 0
        let fixture = try DaemonFixture(emulator: emulator, settleMillis: 0)
        try fixture.writeConfig(
            settleMillis: 0,
            uploadSection: """
                workers = 2
                max_attempts = 25
                backoff_initial_ms = 50
                backoff_max_ms = 1000
                request_timeout_s = 10
                shutdown_grace_s = 5
                pause_probe_s = 1
                """)
        let count = 500
        var expected: Set<String> = []
        for index in 0..<count {
            let bytes = SampleImages.png(width: 8, height: 8, seed: UInt64(60_000 + index))
            expected.insert(SHA256Hasher.hex(of: bytes))
            try fixture.drop("k\(index).png", bytes: bytes)
        }
        var random = SplitMix64(seed: 0x1D_C0FF_EE)
        var kills: [(delay: Int, done: Int, uploading: Int)] = []
        for _ in 0..<20 {
            try fixture.start()
            let delay = Int.random(in: 50...600, using: &random)
            usleep(UInt32(delay) * 1000)  // the random moment itself is the point of this test
            let before = fixture.counts()
            fixture.stop(signal: SIGKILL)
            kills.append((delay, before[.done] ?? 0, before[.uploading] ?? 0))
        }
        try fixture.start()
        #expect(fixture.waitForFinished(count: count, seconds: 120))
        let jobs = try fixture.jobs()
        let images = fixture.emulator.storedImages()
        let donePaths = Set(jobs.filter { $0.state == .done }.map(\.path.display))
        let lost = count - donePaths.count
        let duplicates = images.count - Set(images.map(\.sha256)).count
        let uploads = fixture.emulator.requestLog().filter { $0.method == "POST" }
        let abandoned = uploads.filter { $0.status == 0 }.count
        print(
            "[crash] kills (delay ms, done, uploading at kill): \(kills.map { "(\($0.delay),\($0.done),\($0.uploading))" }.joined(separator: " "))"
        )
        print(
            """
            [crash] files=\(count) jobs=\(jobs.count) done=\(donePaths.count) files lost=\(lost) \
            stored images=\(images.count) distinct sha256=\(Set(images.map(\.sha256)).count) duplicate images=\(duplicates) \
            upload requests=\(uploads.count) cut off by a kill=\(abandoned) 409s=\(uploads.filter { $0.status == 409 }.count) \
            uploading at end=\(fixture.counts()[.uploading] ?? 0)
            """)
        #expect(kills.contains { $0.uploading > 0 }, "no kill landed mid-upload")
        #expect(lost == 0)
        #expect(duplicates == 0)
        #expect(images.count == count)
        #expect(Set(images.map(\.sha256)) == expected)
        #expect(fixture.counts()[.uploading] ?? 0 == 0)
        #expect(jobs.allSatisfy { $0.state == .done })
        fixture.stop()
    }

    @Test(
        "killed with a file's done handed to the writer and not yet written: after the restart every file is done, each stored once",
        arguments: ["content-hash", "cloudflare"])
    func killedBeforeDoneIsWritten(idMode: String) throws {
        let fixture = try DaemonFixture(settleMillis: 0, extraConfig: "[images]\nid = \"\(idMode)\"\n")
        let count = 6
        var expected: [String: String] = [:]  // base name → sha256
        for index in 0..<count {
            let bytes = SampleImages.png(width: 8, height: 8, seed: UInt64(61_000 + index))
            expected["w\(index).png"] = SHA256Hasher.hex(of: bytes)
            try fixture.drop("w\(index).png", bytes: bytes)
        }
        // It may die before READY=1: the files were there at start.
        try? fixture.start(environment: ["IMAGEDROP_TEST_KILL_BEFORE_DONE": "w3.png"])
        let process = try #require(fixture.process)
        #expect(fixture.waitUntil(seconds: 60) { !process.isRunning }, "the hook never fired:\n\(fixture.log)")
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL)
        // Uploaded and answered, its row never written: what the restart has to make good.
        let killed = try #require(try fixture.jobs().first { $0.path.display.hasSuffix("/w3.png") })
        #expect(killed.state == .uploading)
        #expect(fixture.emulator.storedImages().contains { $0.sha256 == expected["w3.png"] })
        fixture.stop()

        try fixture.start()
        #expect(fixture.waitForFinished(count: count, seconds: 60), "\(fixture.counts())\n\(fixture.log)")
        let jobs = try fixture.jobs()
        let images = fixture.emulator.storedImages()
        #expect(
            jobs.count == count && jobs.allSatisfy { $0.state == .done }, "\(jobs.map { ($0.path.display, $0.state) })")
        #expect(images.count == count, "no file stored twice: \(images.map(\.sha256))")
        #expect(Set(images.map(\.sha256)) == Set(expected.values))
        #expect(Set(jobs.compactMap(\.imageID)) == Set(images.map(\.id)))
        fixture.stop()
    }
}
