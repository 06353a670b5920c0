import Foundation
import Glibc
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import ImagedropTestSupport
import Testing

/// `on_success = "move"` / `on_failure = "move"` with names that come back (a camera's `IMG_0001` from the
/// next card): nothing in `done_dir`/`failed_dir` is ever replaced, and each job says where its file went.
@Suite("Move collisions", .serialized)
struct MoveCollisionTests {
    func json(_ path: String) throws -> [String: Any] {
        try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    @Test(
        "three uploads of IMG_0001.png: three files in done_dir, each with its own sidecar; show and export name them")
    func doneCollisions() throws {
        let fixture = try DaemonFixture.withAfterUpload(
            "on_success = \"move\"\ndone_dir = \"DIR/done\"\nsidecar = true\n")
        try fixture.start()
        let done = fixture.directory + "/done/card"
        var images: [[UInt8]] = []
        for round in 0..<3 {
            let bytes = SampleImages.png(width: 12, height: 12, seed: UInt64(70 + round))
            images.append(bytes)
            try fixture.drop("card/IMG_0001.png", bytes: bytes)
            #expect(fixture.waitForFinished(count: round + 1))
            #expect(
                fixture.waitUntil(seconds: 10) { (try? fixture.jobs())?.allSatisfy { $0.afterAction == nil } == true })
        }
        let names = ["IMG_0001.png", "IMG_0001.1.png", "IMG_0001.2.png"]
        let jobs = try fixture.jobs().sorted { $0.id < $1.id }
        #expect(jobs.count == 3)
        for (index, name) in names.enumerated() {
            let path = done + "/" + name
            #expect(
                FileManager.default.contents(atPath: path).map(Array.init) == images[index],
                "\(name) holds upload \(index + 1)")
            let sidecar = try json(path + ".imagedrop.json")
            #expect(sidecar["id"] as? String == jobs[index].imageID, "the sidecar follows the file's final name")
            #expect(sidecar["path"] as? String == path)
            #expect(jobs[index].movedTo?.display == path)
        }
        fixture.stop()

        let (shown, text, _) = try fixture.runCommand(["show", "--config", fixture.configPath, "\(jobs[2].id)"])
        #expect(shown == 0 && text.contains("moved to:    \(done)/IMG_0001.2.png"))
        let (shownJSON, object, _) = try fixture.runCommand([
            "show", "--config", fixture.configPath, "--json", "\(jobs[1].id)",
        ])
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(object.utf8)) as? [String: Any])
        #expect(shownJSON == 0 && parsed["moved_to"] as? String == done + "/IMG_0001.1.png")
        let (exported, csv, _) = try fixture.runCommand(["export", "--config", fixture.configPath, "--format", "csv"])
        let lines = csv.split(separator: "\n").map(String.init)
        #expect(exported == 0 && lines.first == "id,path,state,image_id,sha256,uploaded_at,size,variants,moved_to")
        #expect(
            lines.dropFirst().map { $0.split(separator: ",").last.map(String.init) ?? "" }
                == names.map { done + "/" + $0 })
        let (_, ndjson, _) = try fixture.runCommand(["export", "--config", fixture.configPath, "--format", "ndjson"])
        let rows = try ndjson.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(rows.map { $0["moved_to"] as? String } == names.map { done + "/" + $0 })
    }

    @Test("two failed notes.jpg: both kept in failed_dir, each with its own .error.json")
    func failedCollisions() throws {
        let fixture = try DaemonFixture.withAfterUpload("on_failure = \"move\"\nfailed_dir = \"DIR/failed\"\n")
        try fixture.start()
        for round in 0..<2 {
            try writeFile(atPath: fixture.inbox + "/notes.jpg", contents: Data("text, round \(round)".utf8))
            #expect(fixture.waitForFinished(count: round + 1))
            #expect(
                fixture.waitUntil(seconds: 10) { (try? fixture.jobs())?.allSatisfy { $0.afterAction == nil } == true })
        }
        fixture.stop()
        let failed = fixture.directory + "/failed"
        #expect(FileManager.default.contents(atPath: failed + "/notes.jpg") == Data("text, round 0".utf8))
        #expect(FileManager.default.contents(atPath: failed + "/notes.1.jpg") == Data("text, round 1".utf8))
        let jobs = try fixture.jobs().sorted { $0.id < $1.id }
        #expect(try json(failed + "/notes.jpg.error.json")["job"] as? Int == Int(jobs[0].id))
        #expect(try json(failed + "/notes.1.jpg.error.json")["job"] as? Int == Int(jobs[1].id))
        #expect(try json(failed + "/notes.1.jpg.error.json")["moved_to"] as? String == failed + "/notes.1.jpg")
    }

    @Test("a move owed at a crash after the rename is not repeated: the recorded file is the job's, no second copy")
    func replayAfterRename() throws {
        let fixture = try DaemonFixture.withAfterUpload(
            "on_success = \"move\"\ndone_dir = \"DIR/done\"\nsidecar = true\n")
        let done = fixture.directory + "/done"
        try FileManager.default.createDirectory(atPath: done, withIntermediateDirectories: true)
        let earlier = Data(SampleImages.png(width: 6, height: 6, seed: 90))
        try writeFile(atPath: done + "/shot.png", contents: earlier)  // an earlier card's shot.png
        let path = try fixture.drop("shot.png", seed: 91)
        let store = try JobStore.openForWriting(path: fixture.database)
        let status = try FileStatus.of(RawPath(path)).get()
        guard
            case .inserted(let id) = try store.enqueue([
                FileCandidate(
                    path: RawPath(path), root: RawPath(fixture.inbox),
                    size: status.size, mtimeNanos: status.mtimeNanos)
            ]).first
        else { throw FixtureError("not inserted") }
        _ = try store.claim(leaseMillis: 60_000)
        try store.markDone(id: id, imageID: "x", variants: [], sha256: nil, countAttempt: true, afterAction: "success")
        // What a daemon killed right after its rename leaves: moved_to recorded, the file there, action owed.
        try store.recordMoveTarget(id: id, path: RawPath(done + "/shot.1.png"))
        #expect(rename(path, done + "/shot.1.png") == 0)
        try fixture.start()
        #expect(fixture.waitUntil(seconds: 10) { (try? fixture.store().job(id: id))??.afterAction == nil })
        fixture.stop()
        let names = try FileManager.default.contentsOfDirectory(atPath: done).sorted()
        #expect(names == ["shot.1.png", "shot.1.png.imagedrop.json", "shot.png"])
        #expect(FileManager.default.contents(atPath: done + "/shot.png") == earlier)
    }
}
