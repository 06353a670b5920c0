import ImagedropSupport
import ImagedropSystem
import Synchronization

/// State transitions. Each is one committed statement or transaction, done before the side effect that
/// depends on it (a job is `uploading` before the request goes out; `done` before the file is moved).
extension JobStore {
    /// Takes the next ready job in one atomic statement and leases it until `leaseUntilMillis`, so two workers
    /// never take the same job and a job whose worker died comes back when the lease expires.
    ///
    /// A suspect — a job that was claimed when a daemon died (`interrupted > 0`) — is handled alone: while one
    /// is ready or in hand, no other job is claimed, and it is claimed only once nothing else is in hand. So if
    /// the daemon dies again, the suspect was the only job it held, and the next start quarantines that one
    /// file instead of every file that happened to be in flight beside it (see `recoverAfterCrash`).
    package func claim(leaseMillis: Int64) throws -> Job? {
        try claim(leaseMillis: leaseMillis, upTo: 1).first
    }

    /// Takes up to `limit` ready jobs in one statement, oldest first, each leased as `claim` leases one. A
    /// suspect is still taken alone: while one is ready or in hand, the statement's limit is 1 whatever is asked.
    /// One transition for several jobs writes each page it touches (the rows' leaf, `jobs_ready`, `jobs_lease`,
    /// `source_counts`) once instead of once per job: the claim was half of a small upload's bookkeeping.
    package func claim(leaseMillis: Int64, upTo limit: Int) throws -> [Job] {
        let sources = claimableSources.withLock { $0 }
        let sql = queueSQL.claim
        let jobs = try grouped { db in
            let now = Timestamp.nowMillis()
            let statement = try db.cached(sql)
            statement.bind(1, now + leaseMillis).bind(2, Timestamp.iso8601(millis: now)).bind(3, now)
                .bind(4, sources.list).bind(5, sources.single).bind(6, max(1, limit))
            var jobs: [Job] = []
            while try statement.step() { jobs.append(Self.job(from: statement)) }
            return jobs
        }
        // RETURNING gives the rows in the order the UPDATE visited them (by id), not the queue's order.
        return jobs.count < 2 ? jobs : jobs.sorted { ($0.nextAttemptAtMillis, $0.id) < ($1.nextAttemptAtMillis, $1.id) }
    }

    /// The sources whose jobs `claim` may take from now on (the daemon's configured ones; nil: all).
    package func setClaimableSources(_ names: [String]?) {
        claimableSources.withLock { $0 = ClaimableSources(names) }
    }

    /// When the next waiting job or owed delete becomes ready (unix ms), or nil when nothing waits. A job
    /// that owes a delete waits for the delete, not for its own time. While a suspect is ready or in hand (see
    /// `claim`), readiness is not a time but the end of other work: nil, so callers poll at their slow pace.
    package func nextReadyAtMillis() throws -> Int64? {
        let sources = claimableSources.withLock { $0 }
        return try withDatabase { db in
            let statement = try db.cached(queueSQL.nextReadyAt)
            statement.bind(3, Timestamp.nowMillis()).bind(4, sources.list).bind(5, sources.single)
            guard try statement.step() else { return nil }
            return statement.optionalInt64(0)
        }
    }

    /// The file version a result is for. A transition that names one only applies while the row still
    /// tracks that version: if the watcher saw a newer one meanwhile, the caller must queue the job again.
    package struct Version: Sendable, Equatable {
        package var size: Int
        package var mtimeNanos: Int64
        package init(size: Int, mtimeNanos: Int64) {
            self.size = size
            self.mtimeNanos = mtimeNanos
        }
    }

    /// Returns false, changing nothing, when the row no longer tracks `version`.
    @discardableResult
    package func markDone(
        id: Int64, imageID: String, variants: [String], sha256: String?, countAttempt: Bool, afterAction: String?,
        version: Version? = nil
    ) throws -> Bool {
        try grouped(
            Self.doneWrite(
                id: id, imageID: imageID, variants: variants, sha256: sha256, countAttempt: countAttempt,
                afterAction: afterAction, version: version))
    }

    /// `markDone`'s statement as a body for a write that is grouped or written behind (`WriteBehind`): true when
    /// the row was changed. The time is taken now, when the reply was decided, not when the batch is written.
    package static func doneWrite(
        id: Int64, imageID: String, variants: [String], sha256: String?, countAttempt: Bool, afterAction: String?,
        version: Version?
    ) -> WriteBehind.Body {
        let now = Timestamp.nowISO8601()
        let variantsJSON = JSONText.encodeStringArray(variants)
        return { db in
            let statement = try db.cached(
                """
                UPDATE jobs SET state = 'done', image_id = ?2, variants = ?3, sha256 = COALESCE(?4, sha256), interrupted = 0,
                       attempts = attempts + ?5, last_error = NULL, last_code = NULL, lease_until = NULL,
                       uploaded_at = ?6, updated_at = ?6, after_action = ?7
                WHERE id = ?1 AND (?8 IS NULL OR (size = ?8 AND mtime_ns = ?9))
                """)
            statement.bind(1, id).bind(2, imageID).bind(3, variantsJSON).bind(4, sha256)
                .bind(5, countAttempt ? 1 : 0).bind(6, now).bind(7, afterAction)
                .bind(8, version?.size).bind(9, version?.mtimeNanos)
            try statement.run()
            return db.changes > 0
        }
    }

    /// Counts an upload that may reach the API, committed before it is sent.
    package func recordSend(id: Int64) throws {
        try execute("UPDATE jobs SET sends = sends + 1 WHERE id = ?1") { statement in statement.bind(1, id) }
    }

    package func markRetrying(
        id: Int64, error: String, code: Int?, nextAttemptAtMillis: Int64, countAttempt: Bool
    ) throws {
        try execute(
            """
            UPDATE jobs SET state = 'retrying', last_error = ?2, last_code = ?3, next_attempt_at = ?4, interrupted = 0,
                   attempts = attempts + ?5, lease_until = NULL, updated_at = ?6
            WHERE id = ?1
            """
        ) { statement in
            statement.bind(1, id).bind(2, error).bind(3, code).bind(4, nextAttemptAtMillis)
                .bind(5, countAttempt ? 1 : 0).bind(6, Timestamp.nowISO8601())
        }
    }

    /// Returns false, changing nothing, when the row no longer tracks `version`.
    @discardableResult
    package func markFailed(
        id: Int64, error: String, code: Int?, sha256: String?, countAttempt: Bool, afterAction: String?,
        version: Version? = nil
    ) throws -> Bool {
        try executeCountingChanges(
            """
            UPDATE jobs SET state = 'failed', last_error = ?2, last_code = ?3, sha256 = COALESCE(?4, sha256), interrupted = 0,
                   attempts = attempts + ?5, lease_until = NULL, updated_at = ?6, after_action = ?7
            WHERE id = ?1 AND (?8 IS NULL OR (size = ?8 AND mtime_ns = ?9))
            """
        ) { statement in
            statement.bind(1, id).bind(2, error).bind(3, code).bind(4, sha256).bind(5, countAttempt ? 1 : 0)
                .bind(6, Timestamp.nowISO8601()).bind(7, afterAction).bind(8, version?.size).bind(
                    9, version?.mtimeNanos)
        } > 0
    }

    /// Puts an `uploading` job back in the queue without counting an attempt: the daemon is stopping, the
    /// queue is paused for credentials, or the file changed while it was being sent.
    package func release(id: Int64, delayMillis: Int64 = 0, note: String? = nil) throws {
        let now = Timestamp.nowMillis()
        try execute(
            """
            UPDATE jobs SET state = 'queued', next_attempt_at = ?2, lease_until = NULL, updated_at = ?3,
                   last_error = COALESCE(?4, last_error)
            WHERE id = ?1 AND state = 'uploading'
            """
        ) { statement in
            statement.bind(1, id).bind(2, now + delayMillis).bind(3, Timestamp.iso8601(millis: now)).bind(4, note)
        }
    }

    /// Records the version actually uploaded after a file changed while it waited (size, mtime, hash) —
    /// only if the row still tracks the version the caller claimed (`seenSize`, `seenMtimeNanos`), or already
    /// this one. Returns false, changing nothing, when the watcher recorded another version meanwhile: the
    /// row must never go back to an older version than the watcher last saw. A nil hash (the file is hashed
    /// as it is sent) clears the old version's; the upload's outcome records the new one.
    @discardableResult
    package func updateVersion(
        id: Int64, seenSize: Int?, seenMtimeNanos: Int64?, size: Int, mtimeNanos: Int64,
        sha256: String?
    ) throws -> Bool {
        try executeCountingChanges(
            """
            UPDATE jobs SET size = ?2, mtime_ns = ?3, sha256 = ?4
            WHERE id = ?1 AND ((size IS ?5 AND mtime_ns IS ?6) OR (size = ?2 AND mtime_ns = ?3))
            """
        ) { statement in
            statement.bind(1, id).bind(2, size).bind(3, mtimeNanos).bind(4, sha256).bind(5, seenSize).bind(
                6, seenMtimeNanos)
        } > 0
    }

    /// Jobs left `uploading` by a daemon that died, or whose worker could not record their result (disk full).
    /// `expiredOnly` takes just those whose lease ran out, skipping `inFlight` (jobs a live worker still holds,
    /// however long it has been waiting on the rate limit).
    @discardableResult
    package func recoverLeases(expiredOnly: Bool, inFlight: Set<Int64> = []) throws -> Int {
        let now = Timestamp.nowMillis()
        return try withDatabase { db in
            try db.transaction {
                let expired = try db.cached(
                    """
                    SELECT id FROM jobs WHERE state = 'uploading' AND (?2 = 0 OR lease_until < ?1)
                    """)
                expired.bind(1, now).bind(2, expiredOnly ? 1 : 0)
                var ids: [Int64] = []
                while try expired.step() {
                    let id = expired.int64(0)
                    if !inFlight.contains(id) { ids.append(id) }
                }
                let update = try db.cached(
                    """
                    UPDATE jobs SET state = 'queued', lease_until = NULL, next_attempt_at = ?2, updated_at = ?3
                    WHERE id = ?1 AND state = 'uploading'
                    """)
                for id in ids {
                    update.reset()
                    update.bind(1, id).bind(2, now).bind(3, Timestamp.iso8601(millis: now))
                    try update.run()
                }
                return ids.count
            }
        }
    }

    /// What a start found of the daemon before it, which died holding jobs.
    package struct CrashRecovery: Sendable, Equatable {
        /// Claimed when it died: back in the queue, each now a suspect handled alone (see `claim`).
        package var requeued = 0
        /// Claimed when the daemon died for the second time in a row: `failed`, never claimed again.
        package var quarantined: [Job] = []
    }

    package static let quarantineReason = "quarantined: the daemon stopped twice while handling this file"

    /// At start, for the jobs a dead daemon left `uploading`. After a crash (`crashed`: the daemon noted a fatal
    /// signal) each counts one more interruption, and one that has now been held by two daemons that crashed in
    /// a row is quarantined (`failed`) instead of going back to a queue whose every start would crash on it
    /// again. A kill -9 or a power cut says nothing about the jobs in hand: they go back uncounted. A clean stop
    /// releases its jobs first; `recoverLeases` (expired leases of a live daemon) counts nothing either.
    package func recoverAfterCrash(crashed: Bool, failedAfterAction: (Job) -> String?) throws -> CrashRecovery {
        let now = Timestamp.nowMillis()
        let nowText = Timestamp.iso8601(millis: now)
        let columns = columns
        return try withDatabase { db in
            try db.transaction {
                var recovery = CrashRecovery()
                let held = try db.cached("SELECT \(columns), interrupted FROM jobs WHERE state = 'uploading'")
                var jobs: [(job: Job, interrupted: Int)] = []
                while try held.step() { jobs.append((Self.job(from: held), held.int(Self.columnCount))) }
                let quarantine = try db.cached(
                    """
                    UPDATE jobs SET state = 'failed', last_error = ?2, last_code = NULL, lease_until = NULL,
                           interrupted = interrupted + 1, updated_at = ?3, after_action = ?4
                    WHERE id = ?1 AND state = 'uploading'
                    """)
                let requeue = try db.cached(
                    """
                    UPDATE jobs SET state = 'queued', lease_until = NULL, next_attempt_at = ?2, updated_at = ?3,
                           interrupted = interrupted + ?4
                    WHERE id = ?1 AND state = 'uploading'
                    """)
                for (job, interrupted) in jobs {
                    if crashed && interrupted >= 1 {
                        quarantine.reset()
                        quarantine.bind(1, job.id).bind(2, Self.quarantineReason).bind(3, nowText)
                            .bind(4, failedAfterAction(job))
                        try quarantine.run()
                        recovery.quarantined.append(job)
                    } else {
                        requeue.reset()
                        requeue.bind(1, job.id).bind(2, now).bind(3, nowText).bind(4, crashed ? 1 : 0)
                        try requeue.run()
                        recovery.requeued += 1
                    }
                }
                return recovery
            }
        }
    }

    /// Jobs whose post-upload action (delete, move, sidecar) has not been confirmed yet.
    package func pendingAfterActions(limit: Int) throws -> [Job] {
        try withDatabase { db in
            let statement = try db.cached(
                "SELECT \(columns) FROM jobs WHERE after_action IS NOT NULL ORDER BY id LIMIT ?1")
            statement.bind(1, limit)
            var jobs: [Job] = []
            while try statement.step() { jobs.append(Self.job(from: statement)) }
            return jobs
        }
    }

    package func clearAfterAction(id: Int64, note: String? = nil) throws {
        try execute("UPDATE jobs SET after_action = NULL, last_error = COALESCE(?2, last_error) WHERE id = ?1") {
            statement in
            statement.bind(1, id).bind(2, note)
        }
    }

    /// Records where the after-upload action is about to move the file, committed with `synchronous = FULL`
    /// before the rename: after a crash (or a power loss) the replay knows which file in `done_dir` is this
    /// job's, and so never moves or copies it a second time.
    /// `nil` clears it again when the move failed (the file stayed where it was).
    package func recordMoveTarget(id: Int64, path: RawPath?) throws {
        try withDatabase { db in
            try db.execute("PRAGMA synchronous = FULL")
            defer { try? db.execute("PRAGMA synchronous = NORMAL") }
            let statement = try db.cached("UPDATE jobs SET moved_to = ?2, moved_to_key = ?3 WHERE id = ?1")
            statement.bind(1, id).bind(2, path?.display).bind(3, blob: path?.bytes)
            try statement.run()
        }
    }

    package func executeCountingChanges(_ sql: String, bind: (Statement) -> Void) throws -> Int {
        try withDatabase { db in
            let statement = try db.cached(sql)
            bind(statement)
            try statement.run()
            return db.changes
        }
    }

    package func execute(_ sql: String, bind: (Statement) -> Void) throws {
        try withDatabase { db in
            let statement = try db.cached(sql)
            bind(statement)
            try statement.run()
        }
    }
}

/// Which sources' jobs `claim` takes: all (no test), one (compared directly: the common case) or several (a
/// JSON array that SQLite reads with `json_each`, which builds a table on every claim — 20 µs each, measured
/// against a direct comparison; so it is kept for when more than one source is named).
package struct ClaimableSources: Sendable {
    /// ?4: a JSON array of names, when more than one is claimable.
    package let list: String?
    /// ?5: the one claimable name.
    package let single: String?

    package static let all = ClaimableSources(nil)

    package init(_ names: [String]?) {
        switch names {
        case .some(let names) where names.count == 1:
            list = nil
            single = names[0]
        case .some(let names):
            list = JSONText.encodeStringArray(names)
            single = nil
        case nil:
            list = nil
            single = nil
        }
    }
}

/// The claim's and the readiness query's SQL, built once per store: they depend only on the table's columns,
/// and built per call each was a kilobyte of interpolation, hashed again to find the cached statement.
struct QueueSQL: Sendable {
    let claim: String
    let nextReadyAt: String

    init(columns: String, hasSource: Bool) {
        // Only jobs of the claimable sources are taken (?4, ?5: see `ClaimableSources`): a removed source's
        // jobs wait, untouched, for it to return.
        func sourceCondition(_ table: String) -> String {
            guard hasSource else { return "" }
            return """
                AND (?4 IS NULL OR \(table).source IN (SELECT value FROM json_each(?4)))
                AND (?5 IS NULL OR \(table).source = ?5)
                """
        }
        // Whether a suspect is in hand or ready to be taken (?3: now): while one is, it is handled alone (see
        // `claim`). "Anything in hand" reads `jobs_lease`, whose condition is `state = 'uploading'`.
        let suspectPending = """
            EXISTS (SELECT 1 FROM jobs AS suspect WHERE suspect.interrupted > 0
                      AND (suspect.state = 'uploading' OR (suspect.state IN ('queued','retrying')
                           AND suspect.next_attempt_at <= ?3 \(sourceCondition("suspect")))))
            """
        claim = """
            UPDATE jobs SET state = 'uploading', lease_until = ?1, updated_at = ?2
            WHERE id IN (SELECT id FROM jobs WHERE state IN ('queued','retrying') AND next_attempt_at <= ?3
                          AND NOT EXISTS (SELECT 1 FROM owed_deletes WHERE job_id = jobs.id)
                          \(sourceCondition("jobs"))
                          AND CASE WHEN \(suspectPending)
                              THEN jobs.interrupted > 0 AND NOT EXISTS (SELECT 1 FROM jobs AS held WHERE held.state = 'uploading')
                              ELSE 1 END
                        ORDER BY next_attempt_at, id LIMIT CASE WHEN \(suspectPending) THEN 1 ELSE ?6 END)
            RETURNING \(columns)
            """
        // The same test as `claim`'s: only a suspect in hand, or one ready to be taken, holds the others.
        nextReadyAt = """
            SELECT CASE WHEN \(suspectPending) THEN NULL
            ELSE (SELECT MIN(t) FROM (
                SELECT (SELECT next_attempt_at FROM jobs WHERE state IN ('queued','retrying')
                          AND NOT EXISTS (SELECT 1 FROM owed_deletes WHERE job_id = jobs.id)
                          \(sourceCondition("jobs"))
                        ORDER BY next_attempt_at, id LIMIT 1) AS t
                UNION ALL
                SELECT MIN(MAX(next_attempt_at, COALESCE(lease_until, 0))) FROM owed_deletes)) END
            """
    }
}
