import Foundation
import ImagedropStoreTestSupport
import ImagedropSupport
import ImagedropTestSupport
import Testing

@testable import ImagedropStore
@testable import ImagedropSystem

/// The step that says the `state` CHECK, `jobs_active_path`'s condition and the count triggers in forms SQLite
/// compares in line (issue 25: each was a constant `IN` list, or an INSERT … SELECT reading its own table, that
/// SQLite ran through a temporary b-tree, four per write-back), on a fresh table and on a real file written at the
/// schema before it: a write-back, a retry, an insert and a move build no temporary table, and the rules the old
/// forms kept still hold. (A claim keeps the tables of its `id IN (SELECT …)` and RETURNING: not constant lists.)
@Suite("State conditions", .serialized)
struct StateConditionsTests {
    static let step = Schema.migrations.firstIndex { $0.contains("PRAGMA writable_schema = ON") }!

    /// A table at the schema before the step: jobs in every state, one file with a done job and a queued one.
    static func oldTable(at path: String) throws {
        let database = try Database(path: path)
        try Schema.migrate(database, to: step)
        let states = ["queued", "uploading", "retrying", "done", "failed", "done"]
        for (index, state) in states.enumerated() {
            let name = index == 5 ? "/drop/o0.png" : "/drop/o\(index).png"
            try database.execute(
                """
                INSERT INTO jobs (path, path_key, state, job_key, created_at, updated_at, size, mtime_ns)
                VALUES ('\(name)', CAST('\(name)' AS BLOB), '\(state)', 'k\(index)', '2026-01-01T00:00:00.000Z',
                        '2026-01-01T00:00:00.000Z', 10, \(index))
                """)
        }
        try database.persistWAL()
        database.close()
    }

    /// How many temporary b-trees one run of `sql` opens, its triggers' programs included (EXPLAIN lists them).
    static func ephemeralTables(_ sql: String, _ db: Database) throws -> Int {
        let plan = try db.prepare("EXPLAIN " + sql)
        var count = 0
        while try plan.step() {
            if plan.string(1) == "OpenEphemeral" { count += 1 }
        }
        return count
    }

    /// Statements of the shapes the store runs (markDone's and markRetrying's updates as written in
    /// JobStore+Transitions.swift, an insert, a move), and the rules they must still meet.
    static func expectInLine(_ store: JobStore, path: String) throws {
        try store.withDatabase { db in
            let table = try db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'jobs'")
            #expect(try table.step())
            let sql = table.string(0) ?? ""
            #expect(!sql.contains("state IN ("), "\(sql)")
            #expect(sql.contains("CHECK (state = 'queued' OR state = 'uploading'"), "\(sql)")
            let check = try db.prepare("PRAGMA integrity_check")
            #expect(try check.step() && check.string(0) == "ok")

            for transition in [
                """
                UPDATE jobs SET state = 'done', image_id = ?2, variants = ?3, sha256 = COALESCE(?4, sha256),
                       interrupted = 0, attempts = attempts + ?5, last_error = NULL, last_code = NULL,
                       lease_until = NULL, uploaded_at = ?6, updated_at = ?6, after_action = ?7
                WHERE id = ?1 AND (?8 IS NULL OR (size = ?8 AND mtime_ns = ?9))
                """,
                """
                UPDATE jobs SET state = 'retrying', last_error = ?2, last_code = ?3, next_attempt_at = ?4,
                       interrupted = 0, attempts = attempts + ?5, lease_until = NULL, updated_at = ?6
                WHERE id = ?1
                """,
                "UPDATE jobs SET state = 'uploading', lease_until = 1 WHERE id = 1",
                """
                INSERT INTO jobs (path, path_key, state, job_key, created_at, updated_at)
                VALUES ('/drop/n.png', X'01', 'queued', 'k', 'c', 'u')
                """,
                "UPDATE jobs SET source = 'elsewhere' WHERE id = 1",
            ] {
                #expect(try ephemeralTables(transition, db) == 0, "\(transition)")
            }
            // What the store asks of jobs_active_path, said as its condition now is, still finds the index.
            let plan = try db.prepare(
                "EXPLAIN QUERY PLAN SELECT id FROM jobs WHERE path_key = ?1 AND state NOT IN ('done','failed')")
            var details: [String] = []
            while try plan.step() { details.append(plan.string(3) ?? "") }
            #expect(details.contains { $0.contains("jobs_active_path") }, "\(details)")
        }
        // The CHECK still refuses a state outside the five: on the connection that migrated, and on a new one.
        #expect(throws: SQLiteError.self) {
            try store.withDatabase { try $0.execute("UPDATE jobs SET state = 'lost' WHERE id = 1") }
        }
        let other = try Database(path: path)
        #expect(throws: SQLiteError.self) { try other.execute("UPDATE jobs SET state = 'Done' WHERE id = 1") }
        // One unfinished job per file, however many finished ones beside it.
        try other.execute(
            """
            INSERT INTO jobs (path, path_key, state, job_key, created_at, updated_at)
            VALUES ('/drop/twice.png', X'02', 'queued', 'k', 'c', 'u'), ('/drop/twice.png', X'02', 'done', 'k', 'c', 'u'),
                   ('/drop/twice.png', X'02', 'failed', 'k', 'c', 'u')
            """)
        for state in ["queued", "uploading", "retrying"] {
            #expect(throws: SQLiteError.self) {
                try other.execute(
                    """
                    INSERT INTO jobs (path, path_key, state, job_key, created_at, updated_at)
                    VALUES ('/drop/twice.png', X'02', '\(state)', 'k', 'c', 'u')
                    """)
            }
        }
        other.close()
    }

    @Test("an old table migrates to conditions SQLite compares in line, keeping every rule and row")
    func migrated() throws {
        let temp = try TemporaryFolder("imagedrop-store")
        try Self.oldTable(at: temp.database)
        let store = try JobStore(path: temp.database)
        #expect(try store.withDatabase { try $0.userVersion } == Schema.currentVersion)
        #expect(try store.snapshot().counts == [.queued: 1, .uploading: 1, .retrying: 1, .done: 2, .failed: 1])
        try Self.expectInLine(store, path: temp.database)
        // A new version of the file whose job waits updates that job; the done one beside it stays.
        let results = try store.enqueue([
            FileCandidate(
                path: RawPath("/drop/o0.png"), root: RawPath("/drop"), size: 11, mtimeNanos: 9, source: "default")
        ])
        #expect(results.count == 1)
        let rows = try store.withDatabase { db in
            let statement = try db.prepare(
                "SELECT state, size FROM jobs WHERE path_key = CAST('/drop/o0.png' AS BLOB) ORDER BY id")
            var rows: [String] = []
            while try statement.step() { rows.append("\(statement.string(0) ?? "") \(statement.int(1))") }
            return rows
        }
        #expect(rows == ["queued 11", "done 10"])
    }

    @Test("a new table has the same conditions, and counts stay exact through claims and write-backs")
    func fresh() throws {
        let temp = try TemporaryFolder("imagedrop-store")
        let store = try JobStore(path: temp.database)
        try store.enqueue((0..<6).map { DismissedJobsTests.candidate("f\($0).png", source: "default") })
        try Self.expectInLine(store, path: temp.database)
        for job in try store.claim(leaseMillis: 60_000, upTo: 4) {
            try store.markDone(
                id: job.id, imageID: "i\(job.id)", variants: [], sha256: nil, countAttempt: true, afterAction: nil)
        }
        #expect(try CountsMigrationTests.viewCounts(store) == CountsMigrationTests.rawCounts(store))
        #expect(try DismissedJobsTests.keptCounts(store) == DismissedJobsTests.rowCounts(store))
    }

    /// The counter rows a job's insert or move offers are kept by the trigger's own upsert clause: an OR clause
    /// in a trigger gives way to the outer statement's, and an outside writer's may be anything.
    @Test("an outside writer's INSERT OR REPLACE or UPDATE OR ABORT keeps the counts exact")
    func outsideConflictClauses() throws {
        let temp = try TemporaryFolder("imagedrop-store")
        let store = try JobStore(path: temp.database)
        try store.enqueue((0..<4).map { DismissedJobsTests.candidate("c\($0).png", source: "default") })
        try store.withDatabase { db in
            try db.execute(
                """
                INSERT OR REPLACE INTO jobs (path, path_key, state, job_key, created_at, updated_at, source)
                VALUES ('/drop/r.png', X'03', 'done', 'k', 'c', 'u', 'default')
                """)
            try db.execute("UPDATE OR ABORT jobs SET source = 'other' WHERE path = '/drop/c1.png'")
            try db.execute("UPDATE OR FAIL jobs SET source = 'default' WHERE path = '/drop/c1.png'")
            try db.execute(
                """
                INSERT OR ROLLBACK INTO jobs (path, path_key, state, job_key, created_at, updated_at, source)
                VALUES ('/drop/s.png', X'04', 'failed', 'k', 'c', 'u', 'third')
                """)
            // Dismissed failed jobs, counted apart: a second one in a source that has one.
            for name in ["d1", "d2"] {
                try db.execute(
                    """
                    INSERT OR REPLACE INTO jobs (path, path_key, state, job_key, created_at, updated_at, source, dismissed)
                    VALUES ('/drop/\(name).png', CAST('\(name)' AS BLOB), 'failed', 'k', 'c', 'u', 'default', 1)
                    """)
            }
            try db.execute("UPDATE OR ABORT jobs SET source = 'third' WHERE path = '/drop/d2.png'")
        }
        #expect(try CountsMigrationTests.viewCounts(store) == CountsMigrationTests.rawCounts(store))
        #expect(try DismissedJobsTests.keptCounts(store) == DismissedJobsTests.rowCounts(store))
        #expect(try store.snapshot().counts[.queued] == 4)
        #expect(try store.snapshot().counts[.done] == 1)
    }
}
