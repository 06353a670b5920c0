import Foundation
import ImagedropStoreTestSupport
import ImagedropSupport
import ImagedropTestSupport
import Testing

@testable import ImagedropStore
@testable import ImagedropSystem

/// `dismiss`, `prune --failed` and the dry runs of `retry` and `dismiss`, on a real job table.
@Suite("Dismissed jobs", .serialized)
struct DismissedJobsTests {
    static func candidate(_ name: String, source: String, size: Int = 100) -> FileCandidate {
        FileCandidate(
            path: RawPath("/drop/" + name), root: RawPath("/drop"), size: size, mtimeNanos: 1_000, source: source)
    }

    /// Counts straight from the rows, dismissed failed jobs apart: what `status` must show.
    struct RowCounts: Equatable {
        var states: [JobState: Int] = [:]
        var sources: [String: [JobState: Int]] = [:]
        var dismissed = 0
    }

    static func rowCounts(_ store: JobStore) throws -> RowCounts {
        try store.withDatabase { db in
            var counts = RowCounts()
            for state in JobState.allCases { counts.states[state] = 0 }
            let statement = try db.prepare(
                """
                SELECT source, state, count(*) FROM jobs WHERE NOT (state = 'failed' AND dismissed = 1) GROUP BY source, state
                """)
            while try statement.step() {
                let state = try #require(JobState(rawValue: statement.string(1) ?? ""))
                counts.states[state, default: 0] += statement.int(2)
                counts.sources[statement.string(0) ?? "", default: [:]][state] = statement.int(2)
            }
            let dismissed = try db.prepare("SELECT count(*) FROM jobs WHERE state = 'failed' AND dismissed = 1")
            if try dismissed.step() { counts.dismissed = dismissed.int(0) }
            return counts
        }
    }

    /// What the trigger-kept tables say, as `status` reads them (sources without jobs left out, as the rows do).
    static func keptCounts(_ store: JobStore) throws -> RowCounts {
        let snapshot = try store.snapshot()
        return RowCounts(
            states: snapshot.counts,
            sources: snapshot.sourceCounts.mapValues { $0.filter { $0.value > 0 } }
                .filter { !$0.value.isEmpty }, dismissed: snapshot.dismissed)
    }

    static func fail(_ store: JobStore) throws -> Job? {
        guard let job = try store.claim(leaseMillis: 60_000) else { return nil }
        try store.markFailed(
            id: job.id, error: "not an image", code: nil, sha256: nil, countAttempt: true, afterAction: nil)
        return job
    }

    @Test(
        "failed counts leave dismissed jobs out and equal a GROUP BY through dismiss, retry by id, failing again and prune"
    )
    func countsStayExact() throws {
        let temp = try TemporaryStore()
        let store = temp.store
        try store.enqueue((0..<120).map { Self.candidate("f\($0).png", source: $0 % 3 == 0 ? "avatars" : "default") })
        var generator = SystemRandomNumberGenerator()
        var dismissedOnce: Set<Int64> = []
        for step in 0..<400 {
            if let job = try store.claim(leaseMillis: 60_000) {
                if Bool.random(using: &generator) {
                    try store.markFailed(
                        id: job.id, error: "e\(step)", code: nil, sha256: nil, countAttempt: true, afterAction: nil)
                } else {
                    try store.markDone(
                        id: job.id, imageID: "i\(step)", variants: [], sha256: nil, countAttempt: true, afterAction: nil
                    )
                }
            }
            switch Int.random(in: 0..<6, using: &generator) {
            case 0:
                dismissedOnce.formUnion(try store.dismissFailed(ids: nil).map(\.id))
            case 1, 2:
                // A dismissed job named by id is queued again, its flag cleared.
                if let id = dismissedOnce.randomElement(using: &generator) { _ = try store.retryFailed(ids: [id]) }
            case 3:
                _ = try store.retryFailed(ids: nil)
            case 4:
                if Int.random(in: 0..<10, using: &generator) == 0 {
                    _ = try store.prune(.failed, before: Timestamp.iso8601(millis: Timestamp.nowMillis() + 60_000))
                }
            default:
                break
            }
        }
        let rows = try Self.rowCounts(store)
        print(
            "rows \(rows.states.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }), dismissed \(rows.dismissed)"
        )
        #expect(try Self.keptCounts(store) == rows)
        #expect(!dismissedOnce.isEmpty)
    }

    @Test(
        "retry --all-failed leaves dismissed jobs; retry by id queues one and clears the flag; the failure list skips them"
    )
    func retryAndDismissed() throws {
        let temp = try TemporaryStore()
        let store = temp.store
        try store.enqueue([Self.candidate("a.png", source: "default"), Self.candidate("b.png", source: "default")])
        let a = try #require(try Self.fail(store))
        let b = try #require(try Self.fail(store))
        #expect(try store.dismissFailed(ids: [a.id, a.id, 999]).map(\.id) == [a.id])
        #expect(try store.dismissFailed(ids: [a.id]).isEmpty, "dismissed already: nothing to do")
        let snapshot = try store.snapshot()
        #expect(snapshot.counts[.failed] == 1 && snapshot.dismissed == 1)
        #expect(snapshot.recentFailures.map(\.id) == [b.id])
        #expect(try store.job(id: a.id)?.dismissed == true)
        #expect(try store.list(state: .failed, updatedSince: nil, limit: 10).map(\.id) == [b.id])
        #expect(
            try store.list(state: .failed, updatedSince: nil, limit: 10, includeDismissed: true).map(\.id) == [
                b.id, a.id,
            ])

        #expect(try store.retryFailed(ids: nil).queued == [b.id])
        #expect(try store.job(id: a.id)?.state == .failed)
        #expect(try store.retryFailed(ids: [a.id]).queued == [a.id])
        let again = try #require(try store.job(id: a.id))
        #expect(again.state == .queued && !again.dismissed)
        #expect(try store.snapshot().dismissed == 0)
    }

    @Test("a dry run decides as the real run does: retry with superseded and gone jobs, dismiss; and changes nothing")
    func dryRunsAgree() throws {
        let temp = try TemporaryStore()
        let store = temp.store
        try store.enqueue(["old", "gone", "kept", "later"].map { Self.candidate("\($0).png", source: "default") })
        var failed: [String: Int64] = [:]
        while let job = try Self.fail(store) { failed[String(decoding: job.path.baseName, as: UTF8.self)] = job.id }
        // A newer version of old.png that failed too: the old job is superseded by it.
        try store.enqueue([Self.candidate("old.png", source: "default", size: 5)])
        let newer = try #require(try Self.fail(store))
        #expect(try store.dismissFailed(ids: [try #require(failed["later.png"])]).count == 1)
        let isGone: (Job) -> Bool = { $0.id == failed["gone.png"] }

        let before = try Self.rowCounts(store)
        let dry = try store.retryFailed(ids: nil, dryRun: true, fileIsGone: isGone)
        #expect(try Self.rowCounts(store) == before, "the dry run wrote nothing")
        let real = try store.retryFailed(ids: nil, fileIsGone: isGone)
        #expect(dry == real)
        let kept = try #require(failed["kept.png"])
        let old = try #require(failed["old.png"])
        let gone = try #require(failed["gone.png"])
        #expect(real.queued.sorted() == [kept, newer.id].sorted())
        #expect(real.superseded == [old] && real.gone == [gone])
        // The old dry run printed the failed count (4 here) where the real run queues 2.
        #expect(before.states[.failed] == 4 && before.dismissed == 1)

        let dryDismiss = try store.dismissFailed(ids: nil, dryRun: true)
        #expect(try store.snapshot().dismissed == 1, "the dry run dismissed nothing")
        #expect(try store.dismissFailed(ids: nil) == dryDismiss)
        #expect(dryDismiss.count == 2)
    }

    @Test(
        "prune --failed removes failed jobs, dismissed or not, unchanged since the cutoff; the dry run counts the same")
    func pruneFailed() throws {
        let temp = try TemporaryStore()
        let store = temp.store
        try store.enqueue(["a", "b", "c", "d"].map { Self.candidate("\($0).png", source: "default") })
        let a = try #require(try Self.fail(store))
        _ = try #require(try Self.fail(store))
        let c = try #require(try store.claim(leaseMillis: 60_000))
        // A failed job whose move to failed_dir is not confirmed yet keeps its row for the replay.
        try store.markFailed(id: c.id, error: "x", code: nil, sha256: nil, countAttempt: true, afterAction: "move")
        let d = try #require(try store.claim(leaseMillis: 60_000))
        try store.markDone(id: d.id, imageID: "img", variants: [], sha256: nil, countAttempt: true, afterAction: nil)
        _ = try store.dismissFailed(ids: [a.id])
        let past = Timestamp.iso8601(millis: Timestamp.nowMillis() - 60_000)
        #expect(try store.prunable(.failed, before: past) == 0)
        let future = Timestamp.iso8601(millis: Timestamp.nowMillis() + 60_000)
        #expect(try store.prunable(.failed, before: future) == 2)
        #expect(try store.prune(.failed, before: future) == 2)
        let left = try store.snapshot()
        #expect(left.counts[.failed] == 1 && left.counts[.done] == 1 && left.dismissed == 0)
        #expect(try Self.keptCounts(store) == Self.rowCounts(store))
    }

    @Test("a reader of a table from before the dismissed column counts, lists and dry-runs it")
    func olderTable() throws {
        let temp = try TemporaryFolder("imagedrop-store")
        let step = try #require(Schema.migrations.firstIndex { $0.contains("ADD COLUMN dismissed") })
        let database = try Database(path: temp.database)
        try Schema.migrate(database, to: step)
        try database.execute(
            """
            INSERT INTO jobs (path, path_key, state, job_key, created_at, updated_at, last_error)
            VALUES ('/drop/x.png', X'2F64726F702F782E706E67', 'failed', 'k', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', 'bad')
            """)
        try database.persistWAL()  // as the daemon leaves it, so a read-only reader can open it
        database.close()
        let store = try JobStore(path: temp.database, readOnly: true)
        #expect(!store.hasDismissed)
        let snapshot = try store.snapshot()
        #expect(snapshot.counts[.failed] == 1 && snapshot.dismissed == 0 && snapshot.recentFailures.count == 1)
        #expect(try store.list(state: .failed, updatedSince: nil, limit: 5).count == 1)
        #expect(try store.dismissFailed(ids: nil, dryRun: true).count == 1)
        #expect(try store.retryFailed(ids: nil, dryRun: true).queued.count == 1)
    }
}
