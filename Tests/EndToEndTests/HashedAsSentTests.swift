import Foundation
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropTestSupport
import ImagesEmulator
import Testing

/// Files from `JobProcessor.hashAsSentFromBytes` on are read once: hashed as libcurl sends them, the id and
/// metadata parts after the file part. The id must still be the hash of exactly the bytes stored, and a file
/// written while it is sent must never be stored.
@Suite("One read per large file", .serialized)
struct HashedAsSentTests {
    @Test("a large file is stored under the hash of its bytes, with that hash in its metadata and its row")
    func idIsTheHashOfTheBytesSent() throws {
        let fixture = try DaemonFixture(settleMillis: 0)
        try fixture.start()
        let bytes = SampleImages.png(approximateBytes: 3 << 20, seed: 81)
        let small = SampleImages.png(width: 16, height: 16, seed: 82)
        try fixture.drop("large.png", bytes: bytes)
        try fixture.drop("small.png", bytes: small)
        #expect(fixture.waitForFinished(count: 2))
        let jobs = try fixture.jobs()
        for expected in [bytes, small] {
            let sha = SHA256Hasher.hex(of: expected)
            let job = try #require(jobs.first { $0.sha256 == sha }, "no job recorded sha256 \(sha)")
            #expect(job.state == .done)
            #expect(job.imageID == sha)
            let image = try #require(fixture.emulator.storedImages().first { $0.id == sha })
            #expect(image.sha256 == sha && image.size == expected.count)
            #expect(image.metaJSON.contains("\"sha256\":\"\(sha)\""))
        }
        #expect(fixture.emulator.storedImages().count == 2)
        fixture.stop()
    }

    @Test("a large file written while it is being sent is never stored; its final bytes are, under their hash")
    func changedWhileSentIsNotStored() throws {
        // The emulator reads 64 KiB every 100 ms: the 9 MB body backs up into the socket buffers and curl is still
        // reading the file seconds after the request started.
        var emulator = EmulatorConfiguration()
        emulator.slowReadMs = 100
        let fixture = try DaemonFixture(emulator: emulator, settleMillis: 200)
        try fixture.writeConfig(
            settleMillis: 200,
            uploadSection: """
                workers = 2
                backoff_initial_ms = 50
                backoff_max_ms = 2000
                request_timeout_s = 120
                shutdown_grace_s = 5
                pause_probe_s = 1
                """)
        try fixture.start()
        let old = SampleImages.png(approximateBytes: 9_000_000, seed: 83)
        let path = try fixture.drop("moving.png", bytes: old)
        #expect(fixture.waitUntil(seconds: 20) { (try? fixture.jobs())?.first?.state == .uploading })
        Thread.sleep(forTimeInterval: 1.5)
        // Same size, other bytes at the end (not sent yet): only the version check can tell.
        var new = old
        for index in (new.count - 4096)..<(new.count - 64) { new[index] ^= 0x5A }
        let fd = open(path, O_WRONLY)
        _ = new.withUnsafeBytes { pwrite(fd, $0.baseAddress! + (new.count - 4096), 4096, off_t(new.count - 4096)) }
        close(fd)
        #expect(
            fixture.waitUntil(seconds: 90) {
                (try? fixture.jobs())?.first.map { $0.state.isFinished } ?? false
            })
        let job = try #require(try fixture.jobs().first)
        let stored = fixture.emulator.storedImages()
        let oldSHA = SHA256Hasher.hex(of: old)
        let newSHA = SHA256Hasher.hex(of: new)
        let posts = fixture.emulator.requestLog().filter { $0.method == "POST" }
        print(
            "[one read: changed while sent] job=\(job.state.rawValue):\(job.sha256?.prefix(8) ?? "-") "
                + "stored=\(stored.map { $0.id.prefix(8) }) posts=\(posts.map { "\($0.status)" }) "
                + "old=\(oldSHA.prefix(8)) new=\(newSHA.prefix(8))")
        #expect(fixture.log.contains("file changed during upload"))
        // The cut transfer reached no reply (the emulator never saw a complete form), and nothing was deleted.
        #expect(posts.filter { $0.status == 200 }.count == 1)
        #expect(!fixture.emulator.requestLog().contains { $0.method == "DELETE" })
        #expect(stored.map(\.id) == [newSHA])
        #expect(stored.first?.sha256 == newSHA)
        #expect(job.state == .done && job.sha256 == newSHA && job.imageID == newSHA)
        fixture.stop()
    }

    @Test("a small file rewritten in place after pre-flight is never stored under its earlier hash (soak seed 90817)")
    func smallChangedWhileSentIsNotStored() throws {
        // One request per 6 s: the second file is hashed in pre-flight (it is under hashAsSentFromBytes), then
        // waits for the budget; it is rewritten meanwhile, so the bytes its send reads are the new version's.
        let fixture = try DaemonFixture(settleMillis: 200)
        try fixture.writeConfig(
            settleMillis: 200, uploadSection: DaemonFixture.budgetedUpload(workers: 1, requests: 1, windowSeconds: 6))
        try fixture.start()
        let first = SampleImages.png(width: 30, height: 30, seed: 86)
        try fixture.drop("first.png", bytes: first)
        #expect(fixture.waitForFinished(count: 1))
        let old = SampleImages.png(approximateBytes: 300_000, seed: 84)
        #expect(old.count < JobProcessor.hashAsSentFromBytes)
        let path = try fixture.drop("rewritten.png", bytes: old)
        #expect(fixture.waitUntil(seconds: 20) { (try? fixture.jobs())?.contains { $0.state == .uploading } ?? false })
        Thread.sleep(forTimeInterval: 1.0)
        // Rewritten in place (O_TRUNC), as a camera or an editor saving again does. The old form sent the id and
        // metadata before the file part: the image stored held the new bytes under the old version's hash.
        let new = SampleImages.png(approximateBytes: 400_000, seed: 85)
        let fd = open(path, O_WRONLY | O_TRUNC)
        #expect(fd >= 0)
        _ = new.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        let newSHA = SHA256Hasher.hex(of: new)
        #expect(
            fixture.waitUntil(seconds: 60) {
                (try? fixture.jobs())?.contains { $0.state == .done && $0.sha256 == newSHA } ?? false
            })
        let stored = fixture.emulator.storedImages()
        let posts = fixture.emulator.requestLog().filter { $0.method == "POST" }
        print(
            "[small file changed after pre-flight] stored=\(stored.map { "\($0.id.prefix(8)):\($0.sha256.prefix(8))" }) "
                + "posts=\(posts.map { "\($0.status)" }) new=\(newSHA.prefix(8))")
        #expect(fixture.log.contains("file changed during upload"))
        #expect(!fixture.emulator.requestLog().contains { $0.method == "DELETE" })
        // Every stored image is stored under the hash of its own bytes: the first file and the final version.
        #expect(stored.allSatisfy { $0.id == $0.sha256 }, "stored: \(stored.map { ($0.id, $0.sha256) })")
        #expect(Set(stored.map(\.id)) == [SHA256Hasher.hex(of: first), newSHA])
        fixture.stop()
    }
}
