import FoundationEssentials
import ImagedropSupport
import ImagedropSystem
import Synchronization

/// The job table: the one place that decides state transitions. One connection, used under a Mutex by the
/// watcher, the workers and the control commands of this process; other processes (`status`) open their own.
package final class JobStore: Sendable {
    /// The connection, reached only inside `withDatabase`, one thread at a time.
    private let connection: LockedConnection
    package let path: String

    /// The column list every job query selects, for the schema this file has. Readers never migrate (they
    /// may lack write access, and an older daemon must still start on its own database); on a v1 table the
    /// `sends` column reads as 0.
    package let columns: String
    /// Whether `jobs` has the `moved_to` columns (a reader of an older table has not).
    package let hasMovedTo: Bool
    /// Whether `jobs` has the `kind`/`url` columns of URL jobs.
    package let hasURLs: Bool
    /// Whether `jobs` has the `source` column (a reader of a table from before sources has not).
    package let hasSource: Bool
    /// Whether `jobs` has the `dismissed` column and its `dismissed_counts` (a reader of an older table has not:
    /// nothing is dismissed there).
    package let hasDismissed: Bool
    /// The sources the daemon has configured (nil: every source): `claim` takes only their jobs, so a removed
    /// source's jobs stay queued, untouched, until it returns.
    package let claimableSources = Mutex<ClaimableSources>(.all)
    /// The claim's and the readiness query's SQL for this table.
    let queueSQL: QueueSQL
    /// Before this (unix ms) no owed delete can be due: every worker looks before each claim, and only this
    /// process adds or postpones them, so an empty look is trusted for a second instead of costing a write
    /// transaction per upload.
    package let noOwedDeleteBefore = Atomic<Int64>(0)
    /// The workers' claims and write-backs that land together share one transaction (see GroupCommit); most `done`
    /// write-backs go through the pool's `WriteBehind` instead, in batches of their own.
    private let groupCommit = GroupCommit()

    package init(path: String, readOnly: Bool = false) throws {
        let database = try Database(path: path, readOnly: readOnly, create: !readOnly)
        if !readOnly {
            try Schema.migrate(database)
            try database.persistWAL()
        }
        let version = try database.userVersion
        if readOnly, version > Schema.currentVersion {
            throw SQLiteError(
                code: 0,
                message:
                    "database schema version \(version) is newer than this imagedrop (\(Schema.currentVersion)); upgrade imagedrop",
                sql: nil)
        }
        self.hasMovedTo = try Self.hasColumn("moved_to", in: database)
        self.hasURLs = try Self.hasColumn("url", in: database)
        let hasSource = try Self.hasColumn("source", in: database)
        self.hasSource = hasSource
        self.hasDismissed = try Self.hasColumn("dismissed", in: database)
        let columns =
            Self.columns(schemaVersion: version, hasMovedTo: hasMovedTo, hasURLs: hasURLs) + ", "
            + (hasSource ? "source" : "'default' AS source") + ", "
            + (hasDismissed ? "dismissed" : "0 AS dismissed")
        self.columns = columns
        self.queueSQL = QueueSQL(columns: columns, hasSource: hasSource)
        self.connection = LockedConnection(database)
        self.path = path
    }

    /// Opens the table for writing, creating its folder first (as `run` does), so `enqueue` works before the
    /// daemon ever ran.
    package static func openForWriting(path: String) throws -> JobStore {
        try AtomicFile.makeDirectories(RawPath(path).parent)
        return try JobStore(path: path)
    }

    /// One statement's work on the connection, in one transaction with whatever other transitions are being
    /// written at the same moment (a body must not open a transaction of its own).
    package func grouped<T>(_ body: @escaping (Database) throws -> T) throws -> T {
        var value: T?
        try groupCommit.run({ db in value = try body(db) }, withDatabase: { try withDatabase($0) })
        return value!
    }

    package func withDatabase<T>(_ body: (Database) throws -> T) throws -> T {
        try connection.withLock { database in
            defer { database.resetActiveStatements() }
            do {
                return try body(database)
            } catch let error as SQLiteError where error.isDiskFull {
                Self.shrinkWAL(database)
                throw error
            }
        }
    }

    /// At a clean stop: every committed page into the database file and the WAL truncated to nothing, so the file
    /// alone is the whole table — what an operator copies as a backup of a stopped daemon, or restores. Without
    /// it the WAL kept whatever the last automatic checkpoint had not copied (or only half copied, when a
    /// reader held it back): the file alone was behind, or, copied without its WAL, malformed. Best effort: a
    /// reader that holds a snapshot past the busy timeout leaves it to the next checkpoint, as before.
    package func checkpointAtStop() {
        try? withDatabase { Self.shrinkWAL($0) }
    }

    /// After a full disk. The WAL only shrinks when a checkpoint truncates it: without this, a WAL that grew
    /// until the disk filled keeps the disk full after space returns, and every write fails on. Best effort:
    /// the caller still sees the error and retries later.
    package static func shrinkWAL(_ database: Database) {
        try? database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }

    package static func columns(schemaVersion: Int, hasMovedTo: Bool, hasURLs: Bool = false) -> String {
        """
        id, path, path_raw, path_key, root_key, state, attempts, last_error, last_code, image_id, variants, size,
        mtime_ns, sha256, job_key, next_attempt_at, created_at, updated_at, uploaded_at, after_action,
        \(schemaVersion >= 2 ? "sends" : "0 AS sends"),
        \(hasMovedTo ? "moved_to_key" : "NULL AS moved_to_key"),
        \(hasURLs ? "kind, url" : "'file' AS kind, NULL AS url")
        """
    }

    /// Whether a column exists, for readers of a table an older imagedrop wrote (asked by name, not by
    /// schema version: migrations from parallel changes may be numbered in any order).
    package static func hasColumn(_ name: String, in database: Database) throws -> Bool {
        let statement = try database.prepare("SELECT 1 FROM pragma_table_info('jobs') WHERE name = ?1")
        statement.bind(1, name)
        return try statement.step()
    }

    /// How many columns `columns` selects: a query that selects more after them reads them from this index on.
    package static let columnCount: Int32 = 26

    package static func job(from row: Statement) -> Job {
        let variantsJSON = row.string(10)
        let kind = JobKind(rawValue: row.string(22) ?? "") ?? .file
        return Job(
            id: row.int64(0),
            // A URL job's key is a hash; its path is the URL as shown (user-info redacted).
            path: kind == .url
                ? RawPath(bytes: Array((row.string(1) ?? "").utf8))
                : RawPath(bytes: row.blob(3) ?? Array((row.string(1) ?? "").utf8)),
            root: row.blob(4).map(RawPath.init(bytes:)),
            state: JobState(rawValue: row.string(5) ?? "") ?? .queued,
            attempts: row.int(6),
            lastError: row.string(7),
            lastCode: row.optionalInt(8),
            imageID: row.string(9),
            variants: variantsJSON.map(JSONText.decodeStringArray) ?? [],
            size: row.optionalInt(11),
            mtimeNanos: row.optionalInt64(12),
            sha256: row.string(13),
            jobKey: row.string(14) ?? "",
            nextAttemptAtMillis: row.int64(15),
            createdAt: row.string(16) ?? "",
            updatedAt: row.string(17) ?? "",
            uploadedAt: row.string(18),
            afterAction: row.string(19),
            sends: row.int(20),
            movedTo: row.blob(21).map(RawPath.init(bytes:)),
            kind: kind,
            url: row.string(23),
            source: row.string(24) ?? SourceSettings.defaultName,
            dismissed: row.int(25) != 0 && JobState(rawValue: row.string(5) ?? "") == .failed
        )
    }

    // MARK: - Enqueue

    /// Records the candidates in one transaction (bursts are batched by the caller). A file seen again
    /// unchanged is the same job; a newer version of a file that is still waiting updates that job; a file
    /// rewritten after it finished becomes a new job.
    @discardableResult
    package func enqueue(_ candidates: [FileCandidate]) throws -> [EnqueueResult] {
        guard !candidates.isEmpty else { return [] }
        return try withDatabase { db in
            try db.transaction {
                let now = Timestamp.nowMillis()
                let nowText = Timestamp.iso8601(millis: now)
                return try candidates.map { try enqueueOne($0, db: db, now: now, nowText: nowText) }
            }
        }
    }

    /// What `enqueue` does with a candidate, decided from the table alone: the one rule behind `enqueue` and
    /// the preview of `run --once --dry-run`.
    package enum EnqueueDecision: Equatable {
        /// This exact version already has a job (done, failed, or waiting).
        case known(Int64)
        /// An unfinished job of the path is to track this newer version.
        case update(Int64)
        /// Uploaded before and its done job pruned since: still stored, so not a new version.
        case alreadyStored
        case insert
    }

    package func decide(_ candidate: FileCandidate, db: Database) throws -> EnqueueDecision {
        let active = try db.cached(
            """
            SELECT id, size, mtime_ns FROM jobs WHERE path_key = ?1 AND state NOT IN ('done','failed')
            """)
        active.bind(1, blob: candidate.path.bytes)
        if try active.step() {
            let id = active.int64(0)
            let same = active.optionalInt(1) == candidate.size && active.optionalInt64(2) == candidate.mtimeNanos
            return same ? .known(id) : .update(id)
        }
        let known = try db.cached("SELECT id FROM jobs WHERE path_key = ?1 AND size = ?2 AND mtime_ns = ?3 LIMIT 1")
        known.bind(1, blob: candidate.path.bytes).bind(2, candidate.size).bind(3, candidate.mtimeNanos)
        if try known.step() { return .known(known.int64(0)) }
        let stored = try db.cached("SELECT 1 FROM stored_versions WHERE path_key = ?1 AND size = ?2 AND mtime_ns = ?3")
        stored.bind(1, blob: candidate.path.bytes).bind(2, candidate.size).bind(3, candidate.mtimeNanos)
        return try stored.step() ? .alreadyStored : .insert
    }

    /// Which candidates `enqueue` would insert as new jobs, read in one snapshot and written nowhere.
    package func wouldInsert(_ candidates: [FileCandidate]) throws -> [Bool] {
        try withDatabase { db in
            try db.readTransaction { try candidates.map { try decide($0, db: db) == .insert } }
        }
    }

    private func enqueueOne(
        _ candidate: FileCandidate, db: Database, now: Int64, nowText: String
    ) throws -> EnqueueResult {
        switch try decide(candidate, db: db) {
        case .known(let id):
            return .known(id)
        case .update(let id):
            let update = try db.cached(
                """
                UPDATE jobs SET size = ?2, mtime_ns = ?3, sha256 = NULL, updated_at = ?4 WHERE id = ?1
                """)
            update.bind(1, id).bind(2, candidate.size).bind(3, candidate.mtimeNanos).bind(4, nowText)
            try update.run()
            return .updated(id)
        case .alreadyStored:
            return .alreadyStored
        case .insert:
            break
        }
        let insert = try db.cached(
            """
            INSERT INTO jobs (path, path_raw, path_key, root_key, state, size, mtime_ns, job_key, next_attempt_at,
                              created_at, updated_at, source)
            VALUES (?1, ?2, ?3, ?4, 'queued', ?5, ?6, ?7, ?8, ?9, ?9, ?10)
            """)
        insert.bind(1, candidate.path.display)
            .bind(2, blob: candidate.path.isValidUTF8 ? nil : candidate.path.bytes)
            .bind(3, blob: candidate.path.bytes)
            .bind(4, blob: candidate.root?.bytes)
            .bind(5, candidate.size)
            .bind(6, candidate.mtimeNanos)
            .bind(7, JobKey.make())
            .bind(8, now)
            .bind(9, nowText)
            .bind(10, candidate.source)
        try insert.run()
        return .inserted(db.lastInsertRowID)
    }

    // MARK: - Lookups

    package func job(id: Int64) throws -> Job? {
        try withDatabase { db in
            let statement = try db.cached("SELECT \(columns) FROM jobs WHERE id = ?1")
            statement.bind(1, id)
            return try statement.step() ? Self.job(from: statement) : nil
        }
    }

    /// The newest job for a path (a path can have several: one per version of the file).
    package func latestJob(path: RawPath) throws -> Job? {
        try withDatabase { db in
            let statement = try db.cached("SELECT \(columns) FROM jobs WHERE path_key = ?1 ORDER BY id DESC LIMIT 1")
            statement.bind(1, blob: path.bytes)
            if try statement.step() { return Self.job(from: statement) }
            // Users type the displayed path; for names that are not UTF-8 that is the U+FFFD form.
            let byDisplay = try db.cached("SELECT \(columns) FROM jobs WHERE path = ?1 ORDER BY id DESC LIMIT 1")
            byDisplay.bind(1, path.display)
            return try byDisplay.step() ? Self.job(from: byDisplay) : nil
        }
    }
}

/// The key imagedrop puts into an image's metadata (`imagedrop_job`) to find an ambiguous upload again.
package enum JobKey {
    /// 16 random bytes in hex. Two draws of the system generator (a getrandom call each), not sixteen: every new
    /// job makes one.
    package static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        for _ in 0..<2 {
            let word: UInt64 = generator.next()
            for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: word >> shift)) }
        }
        return Hex.encode(bytes)
    }
}
