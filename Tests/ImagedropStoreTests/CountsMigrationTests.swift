import Foundation
import ImagedropStoreTestSupport
import ImagedropSupport
import ImagedropTestSupport
import Testing

@testable import ImagedropStore
@testable import ImagedropSystem

/// The step that made `job_counts` a view over `source_counts` (one UPDATE per state change instead of five
/// trigger statements), on a real file written at the schema before it.
@Suite("Counts migration", .serialized)
struct CountsMigrationTests {
    static let step = Schema.migrations.firstIndex { $0.contains("CREATE VIEW job_counts") }!

    /// `job_counts` as any reader selects it.
    static func viewCounts(_ store: JobStore) throws -> [JobState: Int] {
        try store.withDatabase { db in
            var counts: [JobState: Int] = [:]
            let statement = try db.prepare("SELECT state, n FROM job_counts")
            while try statement.step() {
                counts[try #require(JobState(rawValue: statement.string(0) ?? ""))] = statement.int(1)
            }
            return counts
        }
    }

    static func rawCounts(_ store: JobStore) throws -> [JobState: Int] {
        try store.withDatabase { db in
            var counts = Dictionary(uniqueKeysWithValues: JobState.allCases.map { ($0, 0) })
            let statement = try db.prepare("SELECT state, count(*) FROM jobs GROUP BY state")
            while try statement.step() {
                counts[try #require(JobState(rawValue: statement.string(0) ?? ""))] = statement.int(1)
            }
            return counts
        }
    }

    /// A table at the schema before the step, written by its own triggers: jobs in every state over three
    /// sources, one of which has only ever had `failed` jobs (so its other state rows do not exist yet).
    static func oldTable(at path: String) throws {
        let database = try Database(path: path)
        try Schema.migrate(database, to: step)
        let states = ["queued", "uploading", "retrying", "done", "failed", "done", "queued"]
        for index in 0..<21 {
            let source = index % 3 == 0 ? "avatars" : "default"
            try database.execute(
                """
                INSERT INTO jobs (path, path_key, state, job_key, created_at, updated_at, source, size, mtime_ns,
                                  next_attempt_at, dismissed)
                VALUES ('/drop/o\(index).png', CAST('/drop/o\(index).png' AS BLOB), '\(states[index % states.count])',
                        'k\(index)', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', '\(source)', 10, 1, 0,
                        \(index == 4 ? 1 : 0))
                """)
        }
        try database.execute(
            """
            INSERT INTO jobs (path, path_key, state, job_key, created_at, updated_at, source)
            VALUES ('/drop/only-failed.png', X'00', 'failed', 'k', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', 'scans')
            """)
        try database.persistWAL()
        database.close()
    }

    /// `jobs_source` went with the step after the counts (two of the seven pages each transition dirtied); the
    /// one query that read it, the claim's "anything in hand", must find `jobs_lease` instead of scanning.
    @Test("an old table loses jobs_source; the claim's in-hand test reads jobs_lease")
    func sourceIndexDropped() throws {
        let temp = try TemporaryFolder("imagedrop-store")
        try Self.oldTable(at: temp.database)
        let store = try JobStore(path: temp.database)
        try store.withDatabase { db in
            let index = try db.prepare(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'jobs_source'")
            #expect(try index.step() && index.int(0) == 0)
            let plan = try db.prepare("EXPLAIN QUERY PLAN SELECT 1 FROM jobs AS held WHERE held.state = 'uploading'")
            var details: [String] = []
            while try plan.step() { details.append(plan.string(3) ?? "") }
            #expect(details.contains { $0.contains("jobs_lease") }, "\(details)")
        }
        store.setClaimableSources(["avatars"])
        let claimed = try #require(try store.claim(leaseMillis: 60_000))
        #expect(claimed.source == "avatars")
    }

    @Test("an old table migrates with its counts exact, and they stay exact through every kind of write")
    func migratesExact() throws {
        let temp = try TemporaryFolder("imagedrop-store")
        try Self.oldTable(at: temp.database)
        let before = try JobStore(path: temp.database, readOnly: true)
        let oldCounts = try before.snapshot().counts
        #expect(try Self.viewCounts(before) == Self.rawCounts(before))

        let store = try JobStore(path: temp.database)
        #expect(try store.withDatabase { try $0.userVersion } == Schema.currentVersion)
        #expect(try store.snapshot().counts == oldCounts)
        #expect(try Self.viewCounts(store) == Self.rawCounts(store))
        #expect(try DismissedJobsTests.keptCounts(store) == DismissedJobsTests.rowCounts(store))
        // The source that had only failed jobs takes its first job of another state.
        try store.withDatabase {
            try $0.execute("UPDATE jobs SET state = 'queued', dismissed = 0 WHERE source = 'scans'")
        }
        #expect(try DismissedJobsTests.keptCounts(store) == DismissedJobsTests.rowCounts(store))

        try store.enqueue(
            (0..<60).map { DismissedJobsTests.candidate("n\($0).png", source: $0 % 4 == 0 ? "new" : "default") })
        var generator = SystemRandomNumberGenerator()
        for step in 0..<200 {
            if let job = try store.claim(leaseMillis: 60_000) {
                switch Int.random(in: 0..<4, using: &generator) {
                case 0:
                    try store.markFailed(
                        id: job.id, error: "e\(step)", code: nil, sha256: nil, countAttempt: true, afterAction: nil)
                case 1:
                    try store.markRetrying(
                        id: job.id, error: "later", code: nil, nextAttemptAtMillis: 0, countAttempt: true)
                case 2:
                    try store.release(id: job.id)
                default:
                    try store.markDone(
                        id: job.id, imageID: "i\(step)", variants: ["https://x/\(step)/public"], sha256: nil,
                        countAttempt: true, afterAction: nil)
                }
            }
            switch Int.random(in: 0..<8, using: &generator) {
            case 0: _ = try store.dismissFailed(ids: nil)
            case 1: _ = try store.retryFailed(ids: nil)
            case 2: _ = try store.recoverLeases(expiredOnly: false)
            case 3 where step % 50 == 0:
                _ = try store.prune(.done, before: Timestamp.iso8601(millis: Timestamp.nowMillis() + 60_000))
            default: break
            }
        }
        // An outside writer moving jobs to another source (nothing in imagedrop does; a script may).
        try store.withDatabase { try $0.execute("UPDATE jobs SET source = 'moved' WHERE id % 5 = 0") }
        try store.withDatabase {
            try $0.execute("UPDATE jobs SET source = 'default', state = 'failed' WHERE id % 10 = 0")
        }
        try store.withDatabase { try $0.execute("DELETE FROM jobs WHERE id % 7 = 0") }
        #expect(try Self.viewCounts(store) == Self.rawCounts(store))
        #expect(try DismissedJobsTests.keptCounts(store) == DismissedJobsTests.rowCounts(store))
        // A reader opening the migrated file reads the same counts.
        let reader = try JobStore(path: temp.database, readOnly: true)
        #expect(try reader.snapshot().counts == store.snapshot().counts)
        #expect(try reader.sourceCounts() == store.sourceCounts())
    }

    @Test("a new table has the view and one counter row per state for each source from its first job")
    func freshTable() throws {
        let temp = try TemporaryStore()
        #expect(try Self.viewCounts(temp.store) == Dictionary(uniqueKeysWithValues: JobState.allCases.map { ($0, 0) }))
        try temp.store.enqueue([DismissedJobsTests.candidate("a.png", source: "default")])
        let rows = try temp.store.withDatabase { db in
            let statement = try db.prepare("SELECT count(*) FROM source_counts WHERE source = 'default'")
            _ = try statement.step()
            return statement.int(0)
        }
        #expect(rows == JobState.allCases.count)
        #expect(try Self.viewCounts(temp.store)[.queued] == 1)
    }
}
