import Foundation
import ImagedropTestSupport
import Testing

@testable import ImagedropPipeline
@testable import ImagedropStore
@testable import ImagedropSystem

/// `images.id = "path"` with one and with several watch roots.
@Suite("Path ids")
struct PathIDTests {
    func job(_ path: String, root: String) -> Job {
        Job(
            id: 1, path: RawPath(path), root: RawPath(root), state: .uploading, attempts: 0, variants: [], jobKey: "k",
            nextAttemptAtMillis: 0, createdAt: "", updatedAt: "")
    }

    func config(roots: [String]) -> Config {
        var config = Config()
        config.images.idMode = .path
        config.images.idPrefix = "drop/"
        config.watch.paths = roots
        return config
    }

    @Test("one root: the id is the relative path, as before")
    func singleRootUnchanged() {
        let id = ImageIDStrategy.customID(
            for: job("/srv/a/trip/x.png", root: "/srv/a"), config: config(roots: ["/srv/a"]), sha256: "s")
        #expect(id == "drop/trip/x.png")
    }

    @Test("several roots: the same relative path under two roots gets two ids, each starting with its root's name")
    func rootsDoNotCollide() {
        let roots = ["/srv/a", "/mnt/b/"]
        let a = ImageIDStrategy.customID(
            for: job("/srv/a/x.png", root: "/srv/a"), config: config(roots: roots), sha256: "s")
        let b = ImageIDStrategy.customID(
            for: job("/mnt/b/x.png", root: "/mnt/b/"), config: config(roots: roots), sha256: "s")
        #expect(a == "drop/a/x.png")
        #expect(b == "drop/b/x.png")
    }

    @Test("roots with the same name, or one inside another, cannot have path ids")
    func conflictingRoots() {
        #expect(ImageIDStrategy.pathIDConflict(roots: ["/srv/in", "/mnt/in"])?.contains("same name \"in\"") == true)
        #expect(ImageIDStrategy.pathIDConflict(roots: ["/srv/a", "/srv/a/b"])?.contains("inside") == true)
        #expect(ImageIDStrategy.pathIDConflict(roots: ["/srv/a", "/srv/b"]) == nil)
        #expect(ImageIDStrategy.pathIDConflict(roots: ["/srv/in"]) == nil)
    }

    @Test("enqueue refuses a file outside every watch folder with path ids: its id could be another file's")
    func enqueueOutsideRoots() throws {
        let directory = NSTemporaryDirectory() + "imagedrop-pathid-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/in", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try writeFile(atPath: directory + "/outside.png", contents: Data([1]))
        var config = config(roots: [directory + "/in"])
        let backfill = Backfill(config: config, store: try JobStore(path: directory + "/jobs.sqlite3"))
        #expect(throws: Backfill.MissingPath.self) { try backfill.validate([directory + "/outside.png"]) }
        #expect(try backfill.validate([directory + "/in"]).count == 1)
        config.images.idMode = .contentHash
        #expect(try Backfill(config: config, store: backfill.store).validate([directory + "/outside.png"]).count == 1)
    }

    @Test("a name that is not UTF-8 cannot have a path id (two such names would share one); other modes don't mind")
    func nonUTF8Names() {
        var bad = job("/srv/a/x.png", root: "/srv/a")
        bad.path = RawPath(bytes: Array("/srv/a/x".utf8) + [0xFF] + Array(".png".utf8))
        func decision(_ job: Job, _ config: Config) -> UploadPlan.Decision {
            UploadPlan.make(job: job, file: .init(sha256: "s"), settings: .init(config))
        }
        guard case .fail(let reason) = decision(bad, config(roots: ["/srv/a"])) else {
            Issue.record("a non-UTF-8 name got a path id")
            return
        }
        #expect(reason.contains("not valid UTF-8"))
        guard case .upload = decision(job("/srv/a/x.png", root: "/srv/a"), config(roots: ["/srv/a"])) else {
            Issue.record("a UTF-8 name was refused")
            return
        }
        var hashed = config(roots: ["/srv/a"])
        hashed.images.idMode = .contentHash
        guard case .upload = decision(bad, hashed) else {
            Issue.record("content-hash ids refused a non-UTF-8 name")
            return
        }
    }
}
