import Foundation
import ImagedropStoreTestSupport
import ImagedropSupport
import Testing

@testable import ImagedropStore

/// What the job table remembers across prune, a watcher racing a worker, and owed deletes — on a real
/// SQLite file.
@Suite("Job store history", .serialized)
struct JobStoreHistoryTests {

    struct NotInserted: Error {}

    func doneJob(_ store: JobStore, _ name: String, size: Int = 100, mtime: Int64 = 1_000) throws -> Int64 {
        guard case .inserted(let id) = try store.enqueue([FileCandidate.inDrop(name, size: size, mtime: mtime)])[0]
        else {
            throw NotInserted()
        }
        _ = try store.claim(leaseMillis: 60_000)
        try store.markDone(
            id: id, imageID: "img-\(name)", variants: [], sha256: String(repeating: "a", count: 64),
            countAttempt: true, afterAction: nil)
        return id
    }

    @Test("after prune, a version that was uploaded is still known: no job, so no upload")
    func pruneKeepsStoredVersions() throws {
        let temp = try TemporaryStore()
        let store = temp.store
        let id = try doneJob(store, "kept.png")
        #expect(try store.prune(doneBefore: Timestamp.iso8601(millis: Timestamp.nowMillis() + 60_000)) == 1)
        #expect(try store.job(id: id) == nil, "the done job itself is gone")
        #expect(try store.enqueue([FileCandidate.inDrop("kept.png")]) == [.alreadyStored])
        #expect(try store.snapshot().total == 0)
        // A new version of the same file is new.
        guard case .inserted = try store.enqueue([FileCandidate.inDrop("kept.png", size: 101, mtime: 2_000)])[0] else {
            Issue.record("a rewritten file must get a job")
            return
        }
    }

    @Test("updateVersion never moves a row back to an older version the watcher already recorded")
    func updateVersionIsCompareAndSet() throws {
        let temp = try TemporaryStore()
        let store = temp.store
        guard case .inserted(let id) = try store.enqueue([FileCandidate.inDrop("a.png", size: 100, mtime: 1_000)])[0]
        else {
            Issue.record("insert")
            return
        }
        let claimed = try #require(try store.claim(leaseMillis: 60_000))
        // The worker's pre-flight saw version 2; meanwhile the watcher recorded version 3 on the row.
        #expect(try store.enqueue([FileCandidate.inDrop("a.png", size: 300, mtime: 3_000)]) == [.updated(id)])
        let applied = try store.updateVersion(
            id: id, seenSize: claimed.size, seenMtimeNanos: claimed.mtimeNanos,
            size: 200, mtimeNanos: 2_000, sha256: "b")
        #expect(!applied)
        let row = try #require(try store.job(id: id))
        #expect(row.size == 300 && row.mtimeNanos == 3_000 && row.sha256 == nil)
        // The version the caller saw is still there: applied.
        let current = try #require(try store.job(id: id))
        #expect(
            try store.updateVersion(
                id: id, seenSize: current.size, seenMtimeNanos: current.mtimeNanos,
                size: 400, mtimeNanos: 4_000, sha256: "c"))
        #expect(try store.job(id: id)?.size == 400)
    }

    @Test("a job that owes a delete is not claimed until the delete is settled; the delete is leased once")
    func owedDeleteHoldsItsJob() throws {
        let temp = try TemporaryStore()
        let store = temp.store
        guard case .inserted(let id) = try store.enqueue([FileCandidate.inDrop("mixed.png")])[0] else {
            Issue.record("insert")
            return
        }
        _ = try store.claim(leaseMillis: 60_000)
        try store.oweDelete(imageID: "mixed-image", jobID: id, reason: "test")
        try store.release(id: id)
        #expect(try store.claim(leaseMillis: 60_000) == nil, "the job waits for its delete")
        let owed = try #require(try store.claimOwedDelete(leaseMillis: 60_000))
        #expect(owed.imageID == "mixed-image" && owed.jobID == id)
        #expect(try store.claimOwedDelete(leaseMillis: 60_000) == nil, "leased: no second worker sends it")
        // A daemon that died with the lease: the next start sends it again.
        #expect(try store.recoverOwedDeletes() == 1)
        let again = try #require(try store.claimOwedDelete(leaseMillis: 60_000))
        try store.postponeOwedDelete(
            imageID: again.imageID, error: "HTTP 503", nextAttemptAtMillis: 0, countAttempt: true)
        #expect(try store.owedDeletes().first?.attempts == 1)
        try store.settleOwedDelete(imageID: "mixed-image")
        #expect(try store.claim(leaseMillis: 60_000)?.id == id)
    }
}
