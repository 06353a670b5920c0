import ImagedropStoreTestSupport
import ImagedropSupport
import ImagedropSystem
import ImagedropTestSupport
import Testing

@testable import ImagedropStore

/// Issue 25: several jobs claimed in one statement — in the queue's order, each leased, and never more than one
/// while a suspect is ready or in hand.
@Suite("Claims in batches", .serialized)
struct ClaimBatchTests {
    @Test("up to the limit, oldest first, each leased `uploading`; what is left goes to the next claim")
    func batchInQueueOrder() throws {
        let temp = try TemporaryFolder("imagedrop-store")
        let store = try JobStore.withDropFiles(["a.png", "b.png", "c.png", "d.png", "e.png"], in: temp)
        // b comes after the others, though its id is lower: they were due a second earlier. (Moving b later instead
        // put it in the future whenever the claims ran within the millisecond of the enqueue: a CI run whose clock
        // stood still for a while did.)
        let b = try #require(try store.latestJob(path: RawPath("/drop/b.png")))
        try store.withDatabase { db in
            let statement = try db.prepare("UPDATE jobs SET next_attempt_at = next_attempt_at - 1000 WHERE id != ?1")
            statement.bind(1, b.id)
            try statement.run()
        }
        let before = Timestamp.nowMillis()
        let first = try store.claim(leaseMillis: 60_000, upTo: 3)
        #expect(first.map(\.path.display) == ["/drop/a.png", "/drop/c.png", "/drop/d.png"])
        for job in first {
            let row = try #require(try store.job(id: job.id))
            #expect(row.state == .uploading)
            #expect(try leaseUntil(store, job.id) >= before + 60_000)
        }
        let rest = try store.claim(leaseMillis: 60_000, upTo: 3)
        #expect(rest.map(\.path.display) == ["/drop/e.png", "/drop/b.png"])
        #expect(try store.claim(leaseMillis: 60_000, upTo: 3).isEmpty)
        #expect(try store.counts()[.uploading] == 5)
    }

    @Test("a suspect is claimed alone, whatever the limit, and holds the others back while in hand")
    func suspectAloneInABatch() throws {
        let temp = try TemporaryFolder("imagedrop-store")
        let store = try JobStore.withDropFiles(["s1.png", "s2.png", "n1.png", "n2.png", "n3.png"], in: temp)
        let held = try store.claim(leaseMillis: 60_000, upTo: 2)
        #expect(held.count == 2)
        _ = try store.recoverAfterCrash(crashed: true) { _ in nil }
        let first = try store.claim(leaseMillis: 60_000, upTo: 8)
        #expect(first.count == 1 && held.map(\.id).contains(first[0].id))
        #expect(try store.claim(leaseMillis: 60_000, upTo: 8).isEmpty)
        _ = try store.markDone(
            id: first[0].id, imageID: "x", variants: [], sha256: nil, countAttempt: true, afterAction: nil)
        let second = try store.claim(leaseMillis: 60_000, upTo: 8)
        #expect(second.count == 1 && held.map(\.id).contains(second[0].id) && second[0].id != first[0].id)
        try store.release(id: second[0].id)
        // Still a suspect (a release clears nothing), and nothing in hand: it again goes alone.
        #expect(try store.claim(leaseMillis: 60_000, upTo: 8).map(\.id) == [second[0].id])
        _ = try store.markDone(
            id: second[0].id, imageID: "y", variants: [], sha256: nil, countAttempt: true, afterAction: nil)
        // No suspect left: the three ordinary jobs in one claim.
        #expect(
            try store.claim(leaseMillis: 60_000, upTo: 8).map(\.path.display) == [
                "/drop/n1.png", "/drop/n2.png", "/drop/n3.png",
            ])
    }

    private func leaseUntil(_ store: JobStore, _ id: Int64) throws -> Int64 {
        try store.withDatabase { db in
            let statement = try db.prepare("SELECT lease_until FROM jobs WHERE id = ?1")
            statement.bind(1, id)
            _ = try statement.step()
            return statement.int64(0)
        }
    }
}
