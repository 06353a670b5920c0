import Foundation
import ImagedropTestSupport
import Testing

@testable import ImagedropStore

@Suite("Backfill")
struct BackfillTests {
    @Test("a folder that is gone by the time it is walked is an error naming it, not a silent '0 queued'")
    func unreadableFolder() throws {
        let directory = NSTemporaryDirectory() + "imagedrop-backfill-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/gone", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var config = Config()
        config.watch.paths = [directory]
        let backfill = Backfill(config: config, store: try JobStore(path: directory + "/jobs.sqlite3"))
        let targets = try backfill.validate([directory + "/gone"])
        try FileManager.default.removeItem(atPath: directory + "/gone")  // vanishes between the check and the walk
        #expect(throws: Backfill.MissingPath.self) { try backfill.enqueue(targets) }
    }

    @Test("files named on the command line and folders are queued once, honouring include and exclude")
    func queuesOnce() throws {
        let directory = NSTemporaryDirectory() + "imagedrop-backfill-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/in/sub", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for name in ["in/a.jpg", "in/sub/b.png", "in/.hidden.png", "in/c.part", "in/d.txt"] {
            try writeFile(atPath: directory + "/" + name, contents: Data(SampleImages.png(width: 2, height: 2)))
        }
        var config = Config()
        config.watch.paths = [directory + "/in"]
        let store = try JobStore(path: directory + "/jobs.sqlite3")
        let backfill = Backfill(config: config, store: store)
        let first = try backfill.enqueue(try backfill.validate([directory + "/in"]))
        #expect(first.found == 2 && first.queued == 2)
        let second = try backfill.enqueue(try backfill.validate([directory + "/in", directory + "/in/a.jpg"]))
        #expect(second.queued == 0)
        #expect(try store.snapshot().counts[.queued] == 2)
    }
}
