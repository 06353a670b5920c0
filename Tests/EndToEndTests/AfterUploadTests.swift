import Foundation
import Glibc
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import ImagedropTestSupport
import Testing

/// `[after_upload]`: what happens to a file once its job is finished — run only after the result is
/// committed, and replayed at start-up when the daemon died in between.
@Suite("After-upload actions", .serialized)
struct AfterUploadTests {
    /// Records `path` as uploaded (`done`) with its after-upload action still owed, straight in the table.
    @discardableResult
    func recordDoneWithActionOwed(_ path: String, fixture: DaemonFixture) throws -> Int64 {
        let store = try JobStore.openForWriting(path: fixture.database)
        let status = try FileStatus.of(RawPath(path)).get()
        let results = try store.enqueue([
            FileCandidate(
                path: RawPath(path), root: RawPath(fixture.inbox), size: status.size,
                mtimeNanos: status.mtimeNanos)
        ])
        guard case .inserted(let id) = results.first else { throw FixtureError("\(path) was not inserted") }
        _ = try store.claim(leaseMillis: 60_000)
        try store.markDone(
            id: id, imageID: "x", variants: ["https://imagedelivery.net/h/x/public"], sha256: nil,
            countAttempt: true, afterAction: "success")
        return id
    }

    @Test("move keeps the relative path under done_dir and writes the sidecar beside the moved file")
    func moveWithSidecar() throws {
        let fixture = try DaemonFixture.withAfterUpload(
            "on_success = \"move\"\ndone_dir = \"DIR/done\"\nsidecar = true\n")
        try fixture.drop("trip/day 1/photo.png", seed: 1)
        try fixture.start()
        #expect(fixture.waitForFinished(count: 1))
        let moved = fixture.directory + "/done/trip/day 1/photo.png"
        #expect(fixture.waitUntil(seconds: 10) { FileManager.default.fileExists(atPath: moved + ".imagedrop.json") })
        #expect(FileManager.default.fileExists(atPath: moved))
        #expect(!FileManager.default.fileExists(atPath: fixture.inbox + "/trip/day 1/photo.png"))
        let sidecar = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: moved + ".imagedrop.json"))) as? [String: Any])
        let job = try #require(try fixture.jobs().first)
        #expect(sidecar["id"] as? String == job.imageID)
        #expect(sidecar["variants"] as? [String] == job.variants)
        #expect(sidecar["sha256"] as? String == job.sha256)
        #expect(job.afterAction == nil)
        fixture.stop()
    }

    @Test("delete removes the uploaded file; failed files move to failed_dir with NAME.error.json")
    func deleteAndFailedMove() throws {
        let fixture = try DaemonFixture.withAfterUpload(
            "on_success = \"delete\"\non_failure = \"move\"\nfailed_dir = \"DIR/failed\"\n")
        let good = try fixture.drop("good.png", seed: 2)
        try writeFile(atPath: fixture.inbox + "/bad.jpg", contents: Data("plain text".utf8))
        try fixture.start()
        #expect(fixture.waitForFinished(count: 2))
        #expect(fixture.waitUntil(seconds: 10) { !FileManager.default.fileExists(atPath: good) })
        let failed = fixture.directory + "/failed/bad.jpg"
        #expect(fixture.waitUntil(seconds: 10) { FileManager.default.fileExists(atPath: failed + ".error.json") })
        #expect(FileManager.default.fileExists(atPath: failed))
        let report = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: failed + ".error.json"))) as? [String: Any])
        #expect((report["error"] as? String)?.contains("not an image") == true)
        // The deleted file is not a new version of anything: no new job appears.
        fixture.stop()
        #expect(fixture.counts().values.reduce(0, +) == 2)
    }

    @Test("an action owed when the daemon died is replayed at the next start")
    func replayAfterCrash() throws {
        let fixture = try DaemonFixture.withAfterUpload("on_success = \"move\"\ndone_dir = \"DIR/done\"\n")
        let path = try fixture.drop("owed.png", seed: 3)
        // Recorded done with its move still owed, as a daemon killed between the commit and the rename leaves it.
        let id = try recordDoneWithActionOwed(path, fixture: fixture)
        try fixture.start()
        #expect(
            fixture.waitUntil(seconds: 10) {
                FileManager.default.fileExists(atPath: fixture.directory + "/done/owed.png")
            })
        #expect(fixture.waitUntil(seconds: 10) { (try? fixture.store().job(id: id))??.afterAction == nil })
        #expect(fixture.emulator.storedImages().isEmpty, "a done job is not uploaded again")
        fixture.stop()
    }

    @Test("a file rewritten after its upload is not deleted by the owed action: it is a new version with its own job")
    func rewrittenFileIsNotDeleted() throws {
        let fixture = try DaemonFixture.withAfterUpload("on_success = \"delete\"\n")
        let path = try fixture.drop("keep-me.png", seed: 4)
        try recordDoneWithActionOwed(path, fixture: fixture)
        // Rewritten before the daemon (re)starts and replays the delete.
        let newer = SampleImages.png(width: 9, height: 9, seed: 44)
        try writeFile(atPath: path, contents: Data(newer))
        try fixture.start()
        #expect(fixture.waitForFinished(count: 2))
        #expect(
            fixture.waitUntil(seconds: 10) { !FileManager.default.fileExists(atPath: path) },
            "the new version is uploaded by its own job, then deleted")
        #expect(fixture.emulator.storedImages().map(\.sha256) == [SHA256Hasher.hex(of: newer)])
        fixture.stop()
    }
}
