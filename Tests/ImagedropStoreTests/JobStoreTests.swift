import Foundation
import Glibc
import ImagedropStoreTestSupport
import Synchronization
import Testing

@testable import ImagedropStore
@testable import ImagedropSystem

/// The job table on a real SQLite file in a temporary directory.
@Suite("Job store", .serialized)
struct JobStoreTests {
    /// `SELECT count(*) … GROUP BY state` straight from the table, to compare with the trigger-kept counts.
    static func groupCounts(_ store: JobStore) throws -> [JobState: Int] {
        try store.withDatabase { db in
            var counts: [JobState: Int] = [:]
            for state in JobState.allCases { counts[state] = 0 }
            let statement = try db.prepare("SELECT state, count(*) FROM jobs GROUP BY state")
            while try statement.step() {
                counts[JobState(rawValue: statement.string(0) ?? "")!] = statement.int(1)
            }
            return counts
        }
    }

    @Test("enqueue is idempotent: the same version of a file seen again is the same job")
    func idempotentEnqueue() throws {
        let temp = try TemporaryStore()
        let store = temp.store
        let first = try store.enqueue([FileCandidate.inDrop("a.png"), FileCandidate.inDrop("b.png")])
        guard case .inserted(let a) = first[0], case .inserted = first[1] else {
            Issue.record("\(first)")
            return
        }
        let again = try store.enqueue([FileCandidate.inDrop("a.png"), FileCandidate.inDrop("a.png")])
        #expect(again == [.known(a), .known(a)])
        #expect(try store.snapshot().counts[.queued] == 2)
    }

    @Test("a newer version of a file that is still waiting updates that job instead of adding one")
    func newerVersionUpdatesWaitingJob() throws {
        let temp = try TemporaryStore()
        let store = temp.store
        guard case .inserted(let id) = try store.enqueue([FileCandidate.inDrop("a.png")])[0] else {
            Issue.record("insert")
            return
        }
        #expect(try store.enqueue([FileCandidate.inDrop("a.png", size: 200, mtime: 2_000)]) == [.updated(id)])
        let job = try #require(try store.job(id: id))
        #expect(job.size == 200 && job.mtimeNanos == 2_000 && job.sha256 == nil)
        #expect(try store.snapshot().total == 1)
    }

    @Test("a file rewritten after it was done becomes a new job; the done job keeps its image")
    func rewrittenDoneFileIsNewJob() throws {
        let temp = try TemporaryStore()
        let store = temp.store
        guard case .inserted(let id) = try store.enqueue([FileCandidate.inDrop("a.png")])[0] else {
            Issue.record("insert")
            return
        }
        let claimed = try #require(try store.claim(leaseMillis: 60_000))
        #expect(claimed.id == id && claimed.state == .uploading)
        try store.markDone(
            id: id, imageID: "img", variants: ["https://x/public"], sha256: "ab", countAttempt: true, afterAction: nil)
        #expect(try store.enqueue([FileCandidate.inDrop("a.png")]) == [.known(id)])
        let result = try store.enqueue([FileCandidate.inDrop("a.png", size: 300, mtime: 3_000)])
        guard case .inserted(let newID) = result[0] else {
            Issue.record("\(result)")
            return
        }
        #expect(newID != id)
        #expect(try store.job(id: id)?.state == .done)
        #expect(try store.job(id: id)?.imageID == "img")
        #expect(try store.job(id: newID)?.state == .queued)
        #expect(try store.latestJob(path: RawPath("/drop/a.png"))?.id == newID)
    }

    @Test("claim is atomic: 8 threads claiming 2,000 jobs never take the same job twice")
    func atomicClaim() throws {
        let temp = try TemporaryStore()
        let store = temp.store
        let total = 2000
        try store.enqueue((0..<total).map { FileCandidate.inDrop("f\($0).png") })
        let claimed = Mutex<[Int64]>([])
        let databasePath = temp.database
        let group = DispatchGroup()
        for _ in 0..<8 {
            group.enter()
            Thread {
                // A second connection per thread, as a second process would have: SQLite's own locking.
                let own = try? JobStore(path: databasePath)
                var mine: [Int64] = []
                while let job = try? (own ?? store).claim(leaseMillis: 60_000) { mine.append(job.id) }
                claimed.withLock { $0.append(contentsOf: mine) }
                group.leave()
            }.start()
        }
        group.wait()
        let ids = claimed.withLock { $0 }
        print("8 threads claimed \(ids.count) jobs, \(Set(ids).count) distinct")
        #expect(ids.count == total)
        #expect(Set(ids).count == total)
        #expect(try store.snapshot().counts[.uploading] == total)
        #expect(try store.claim(leaseMillis: 1000) == nil)
    }

    @Test("leases: expired ones come back with expiredOnly, all come back at start-up recovery")
    func leaseRecovery() throws {
        let temp = try TemporaryStore()
        let store = temp.store
        try store.enqueue([FileCandidate.inDrop("a.png"), FileCandidate.inDrop("b.png")])
        let short = try #require(try store.claim(leaseMillis: -1))  // already expired
        let long = try #require(try store.claim(leaseMillis: 600_000))
        #expect(try store.recoverLeases(expiredOnly: true) == 1)
        #expect(try store.job(id: short.id)?.state == .queued)
        #expect(try store.job(id: long.id)?.state == .uploading)
        #expect(try store.recoverLeases(expiredOnly: false) == 1)
        #expect(try store.job(id: long.id)?.state == .queued)
        #expect(try store.job(id: long.id)?.attempts == 0)
    }

    @Test("retryFailed resets attempts and requeues, but not when a newer version of the file waits")
    func retryFailed() throws {
        let temp = try TemporaryStore()
        let store = temp.store
        try store.enqueue([FileCandidate.inDrop("a.png"), FileCandidate.inDrop("b.png")])
        let a = try #require(try store.claim(leaseMillis: 60_000))
        let b = try #require(try store.claim(leaseMillis: 60_000))
        try store.markFailed(
            id: a.id, error: "HTTP 415, code 5455", code: 5455, sha256: nil, countAttempt: true, afterAction: nil)
        try store.markFailed(id: b.id, error: "gone", code: nil, sha256: nil, countAttempt: true, afterAction: nil)
        // A newer version of b is now waiting: retrying the old one would upload the file twice.
        try store.enqueue([FileCandidate.inDrop("b.png", size: 999, mtime: 9)])
        let retried = try store.retryFailed(ids: nil)
        #expect(retried.queued == [a.id] && retried.superseded == [b.id])
        let job = try #require(try store.job(id: a.id))
        #expect(job.state == .queued && job.attempts == 0 && job.lastError == nil)
        #expect(try store.job(id: b.id)?.state == .failed)
        #expect(try store.retryFailed(ids: [a.id]).queued == [])
    }

    @Test("retryFailed leaves an older version alone once a newer job of the file ended, and skips files that are gone")
    func retryOnlyTheNewestVersion() throws {
        let temp = try TemporaryStore()
        let store = temp.store
        try store.enqueue([FileCandidate.inDrop("c.png")])
        let old = try #require(try store.claim(leaseMillis: 60_000))
        try store.markFailed(
            id: old.id, error: "not an image", code: nil, sha256: nil, countAttempt: true, afterAction: nil)
        // The file was rewritten and its new version uploaded: the old failed job must not take the file over.
        try store.enqueue([FileCandidate.inDrop("c.png", size: 777, mtime: 7)])
        let new = try #require(try store.claim(leaseMillis: 60_000))
        try store.markDone(id: new.id, imageID: "img", variants: [], sha256: nil, countAttempt: true, afterAction: nil)
        let all = try store.retryFailed(ids: nil)
        #expect(all.queued.isEmpty && all.superseded == [old.id])
        #expect(try store.retryFailed(ids: [old.id]).superseded == [old.id])
        #expect(try store.job(id: old.id)?.state == .failed)

        try store.enqueue([FileCandidate.inDrop("d.png")])
        let gone = try #require(try store.claim(leaseMillis: 60_000))
        try store.markFailed(
            id: gone.id, error: "HTTP 415", code: 5455, sha256: nil, countAttempt: true, afterAction: nil)
        let skipped = try store.retryFailed(ids: nil, fileIsGone: { $0.id == gone.id })
        #expect(skipped.queued.isEmpty && skipped.gone == [gone.id])
        #expect(try store.retryFailed(ids: nil).queued == [gone.id])
    }

    @Test("the trigger-kept counts equal SELECT count(*) GROUP BY state after a random walk of transitions")
    func countsMatchTable() throws {
        let temp = try TemporaryStore()
        let store = temp.store
        var generator = SystemRandomNumberGenerator()
        try store.enqueue((0..<300).map { FileCandidate.inDrop("c\($0).png") })
        for step in 0..<600 {
            guard let job = try store.claim(leaseMillis: 60_000) else {
                _ = try store.retryFailed(ids: nil)
                continue
            }
            switch Int.random(in: 0..<5, using: &generator) {
            case 0:
                try store.markDone(
                    id: job.id, imageID: "i\(step)", variants: [], sha256: nil, countAttempt: true, afterAction: nil)
            case 1:
                try store.markFailed(
                    id: job.id, error: "e", code: nil, sha256: nil, countAttempt: true, afterAction: nil)
            case 2:
                try store.markRetrying(id: job.id, error: "r", code: 503, nextAttemptAtMillis: 0, countAttempt: true)
            case 3: try store.release(id: job.id)
            default: break  // stays uploading
            }
        }
        try store.enqueue((0..<50).map { FileCandidate.inDrop("c\($0).png", size: 7, mtime: 7) })
        let kept = try store.snapshot().counts
        let counted = try Self.groupCounts(store)
        print(
            "trigger counts \(kept.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" })"
        )
        #expect(kept == counted)
        #expect(kept.values.reduce(0, +) == counted.values.reduce(0, +))
    }

    @Test("job keys are 32 lowercase hex digits, all different")
    func jobKeys() {
        let keys = (0..<2_000).map { _ in JobKey.make() }
        #expect(Set(keys).count == keys.count)
        #expect(
            keys.allSatisfy { key in
                key.utf8.count == 32 && key.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
            })
    }
}
