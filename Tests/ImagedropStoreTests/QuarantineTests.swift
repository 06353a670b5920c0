import Foundation
import Glibc
import ImagedropStoreTestSupport
import ImagedropTestSupport
import Testing

@testable import ImagedropStore

/// Issue 20, item 1: a file that crashes the daemon cannot make it crash in a loop. The store's side: what a start
/// after a crash does with the jobs the dead daemon held, and how suspects are claimed alone.
@Suite("Quarantine after crashes", .serialized)
struct QuarantineTests {
    private func interrupted(_ store: JobStore, _ id: Int64) throws -> Int {
        try store.withDatabase { db in
            let statement = try db.prepare("SELECT interrupted FROM jobs WHERE id = ?1")
            statement.bind(1, id)
            _ = try statement.step()
            return statement.int(0)
        }
    }

    @Test("held by two crashed daemons in a row: failed 'quarantined: …'; by one: queued again as a suspect")
    func twoCrashesQuarantine() throws {
        let temp = try TemporaryFolder("imagedrop-store")
        let store = try JobStore.withDropFiles(["poison.heic", "fine.png"], in: temp)
        let poison = try #require(try store.claim(leaseMillis: 60_000))
        // The first daemon dies holding it.
        var recovery = try store.recoverAfterCrash(crashed: true) { _ in nil }
        #expect(recovery.requeued == 1 && recovery.quarantined.isEmpty)
        #expect(try store.job(id: poison.id)?.state == .queued)
        #expect(try interrupted(store, poison.id) == 1)
        // The second start claims the suspect first, alone, and dies again.
        let again = try #require(try store.claim(leaseMillis: 60_000))
        #expect(again.id == poison.id)
        recovery = try store.recoverAfterCrash(crashed: true) { _ in "failure" }
        #expect(recovery.quarantined.map(\.id) == [poison.id])
        let failed = try #require(try store.job(id: poison.id))
        #expect(failed.state == .failed)
        #expect(failed.lastError == JobStore.quarantineReason)
        #expect(failed.lastError == "quarantined: the daemon stopped twice while handling this file")
        #expect(failed.afterAction == "failure")
        #expect(failed.attempts == 0)
        // The rest goes on.
        let next = try #require(try store.claim(leaseMillis: 60_000))
        #expect(next.path.display == "/drop/fine.png")
    }

    @Test("a kill -9 (no crash note) and a clean release count nothing")
    func killsAndCleanStopsDoNotCount() throws {
        let temp = try TemporaryFolder("imagedrop-store")
        let store = try JobStore.withDropFiles(["a.png"], in: temp)
        let job = try #require(try store.claim(leaseMillis: 60_000))
        _ = try store.recoverAfterCrash(crashed: false) { _ in nil }
        #expect(try interrupted(store, job.id) == 0)
        _ = try #require(try store.claim(leaseMillis: 60_000))
        _ = try store.recoverAfterCrash(crashed: false) { _ in nil }
        _ = try #require(try store.claim(leaseMillis: 60_000))
        try store.release(id: job.id)
        #expect(try store.recoverAfterCrash(crashed: true) { _ in nil } == JobStore.CrashRecovery())
        #expect(try store.job(id: job.id)?.state == .queued)
        #expect(try interrupted(store, job.id) == 0)
    }

    @Test("suspects are claimed one at a time and before anything else; an outcome clears the suspicion")
    func suspectsAlone() throws {
        let temp = try TemporaryFolder("imagedrop-store")
        let store = try JobStore.withDropFiles(["s1.png", "s2.png", "n1.png", "n2.png"], in: temp)
        let held = [
            try #require(try store.claim(leaseMillis: 60_000)), try #require(try store.claim(leaseMillis: 60_000)),
        ]
        _ = try store.recoverAfterCrash(crashed: true) { _ in nil }
        // Both held jobs are suspects now: the first is claimed alone, nothing else while it is in hand.
        let first = try #require(try store.claim(leaseMillis: 60_000))
        #expect(held.map(\.id).contains(first.id))
        #expect(try store.claim(leaseMillis: 60_000) == nil)
        #expect(try store.nextReadyAtMillis() == nil, "workers poll slowly while a suspect is in hand")
        try store.markRetrying(id: first.id, error: "HTTP 503", code: nil, nextAttemptAtMillis: 0, countAttempt: true)
        #expect(try interrupted(store, first.id) == 0)
        // The second suspect next, alone again.
        let second = try #require(try store.claim(leaseMillis: 60_000))
        #expect(held.map(\.id).contains(second.id) && second.id != first.id)
        #expect(try store.claim(leaseMillis: 60_000) == nil)
        _ = try store.markDone(
            id: second.id, imageID: "x", variants: [], sha256: nil, countAttempt: true,
            afterAction: nil, version: nil)
        // No suspect left: ordinary claims in parallel again.
        #expect(try store.claim(leaseMillis: 60_000) != nil)
        #expect(try store.claim(leaseMillis: 60_000) != nil)
        #expect(try store.nextReadyAtMillis() != nil)
    }

    @Test("a suspect waiting behind other jobs in hand: nothing new is claimed until they end, then the suspect alone")
    func suspectWaitsForTheOthers() throws {
        let temp = try TemporaryFolder("imagedrop-store")
        let store = try JobStore.withDropFiles(["s.png", "n1.png", "n2.png"], in: temp)
        let suspect = try #require(try store.claim(leaseMillis: 60_000))
        _ = try store.recoverAfterCrash(crashed: true) { _ in nil }
        // Pretend an ordinary job was already in hand when the suspect became ready (a lease taken just before).
        let ordinary = try store.withDatabase { db -> Int64 in
            let statement = try db.prepare(
                "UPDATE jobs SET state = 'uploading' WHERE id != ?1 AND id = (SELECT min(id) FROM jobs WHERE id != ?1) RETURNING id"
            )
            statement.bind(1, suspect.id)
            _ = try statement.step()
            return statement.int64(0)
        }
        #expect(try store.claim(leaseMillis: 60_000) == nil, "neither the suspect nor another ordinary job")
        try store.release(id: ordinary)
        #expect(try store.claim(leaseMillis: 60_000)?.id == suspect.id)
    }

    @Test("a suspect that waits for later (a file still changing) holds nothing back meanwhile")
    func delayedSuspectHoldsNothing() throws {
        let temp = try TemporaryFolder("imagedrop-store")
        let store = try JobStore.withDropFiles(["s.png", "n.png"], in: temp)
        let suspect = try #require(try store.claim(leaseMillis: 60_000))
        _ = try store.recoverAfterCrash(crashed: true) { _ in nil }
        let again = try #require(try store.claim(leaseMillis: 60_000))
        #expect(again.id == suspect.id)
        try store.release(id: suspect.id, delayMillis: 60_000)
        #expect(try store.nextReadyAtMillis() != nil)
        let other = try #require(try store.claim(leaseMillis: 60_000))
        #expect(other.id != suspect.id)
    }
}
