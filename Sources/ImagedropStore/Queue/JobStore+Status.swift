import ImagedropSupport
import ImagedropSystem

/// What `status` reports, read from the table alone. Every query here is served by an index or by the
/// trigger-maintained `job_counts`, so its cost does not grow with the number of done jobs.
package struct QueueSnapshot: Sendable {
    package var counts: [JobState: Int] = [:]
    package var oldestWaitingCreatedAt: String?
    package var recentFailures: [Job] = []
    package var nextRetryAt: Int64?
    package var uploadsLastMinute = 0
    package var uploadsLastHour = 0
    package var lastUploadAt: String?
    /// Jobs per source and state.
    package var sourceCounts: [String: [JobState: Int]] = [:]
    /// Failed jobs the operator dismissed: not in `counts[.failed]` (nor in `total`), nor in `recentFailures`.
    package var dismissed = 0
    package var total: Int { counts.values.reduce(0, +) }
    package init() {}
}

package struct DaemonRecord: Sendable {
    package var pid: Int?
    package var host: String?
    package var version: String?
    package var startedAt: String?
    package var heartbeatAt: String?
    package var heartbeatMillis: Int64?
    package var stoppedAt: String?
    package var paused: String?
    package var statusLine: String?
    /// Folders the running daemon lists by polling because inotify could not watch them (the watch limit).
    package var unwatchedFolders = 0
    /// The pool's concurrency at the last heartbeat, as `ConcurrencyLimiter.Snapshot.json` wrote it.
    package var concurrencyJSON: String?
    /// The last reload the running daemon refused, until a good one (nil on a table from before it was kept).
    package var reloadRefused: ReloadRefusal?
    /// `imagedrop pause`, in force until `imagedrop resume`, whether a daemon runs or not.
    package var operatorPause: OperatorPause?
    /// The backlog's ETA at the last heartbeat (nil: unknown, or paused); `recordsETA` is false for a table from
    /// before the daemon recorded it.
    package var etaSeconds: Int?
    package var recordsETA = false
    /// Why the daemon's fleet budget went on alone at its last heartbeat (nil: shared, or no fleet).
    package var fleetDegraded: String?

    /// How often the running daemon writes `heartbeat_at`: its main loop's beat. A heartbeat older than
    /// `staleAfterBeats` of these means the daemon holds its lock but its loop has stopped turning.
    package static let heartbeatIntervalSeconds: Int64 = 5
    package static let staleAfterBeats: Int64 = 3
}

extension JobStore {
    /// Jobs per state, from `job_counts` (the trigger-kept `source_counts` summed per state): what the daemon's once-a-second loop needs, without
    /// the range counts of a full snapshot.
    /// `failed` leaves out the dismissed jobs.
    package func counts() throws -> [JobState: Int] {
        try withDatabase { db in try counts(db) }
    }

    private func counts(_ db: Database) throws -> [JobState: Int] {
        var counts: [JobState: Int] = [:]
        let statement = try db.cached("SELECT state, n FROM job_counts")
        while try statement.step() {
            if let state = JobState(rawValue: statement.string(0) ?? "") { counts[state] = statement.int(1) }
        }
        for state in JobState.allCases where counts[state] == nil { counts[state] = 0 }
        counts[.failed, default: 0] -= try dismissedCounts(db).values.reduce(0, +)
        return counts
    }

    /// Dismissed failed jobs per source, from the trigger-kept `dismissed_counts` (empty on an older table).
    package func dismissedCounts(_ db: Database) throws -> [String: Int] {
        guard hasDismissed else { return [:] }
        var result: [String: Int] = [:]
        let statement = try db.cached("SELECT source, n FROM dismissed_counts WHERE n > 0")
        while try statement.step() { result[statement.string(0) ?? SourceSettings.defaultName] = statement.int(1) }
        return result
    }

    package func snapshot(failureLimit: Int = 10) throws -> QueueSnapshot {
        try withDatabase { db in
            var snapshot = QueueSnapshot()
            snapshot.counts = try counts(db)
            snapshot.sourceCounts = try sourceCounts(db)
            snapshot.dismissed = try dismissedCounts(db).values.reduce(0, +)

            // The ready index orders by next_attempt_at, not creation; the waiting set is small, so min() is cheap.
            let oldest = try db.cached("SELECT min(created_at) FROM jobs WHERE state IN ('queued','retrying')")
            if try oldest.step() { snapshot.oldestWaitingCreatedAt = oldest.string(0) }

            // `state IN (…)` repeated so SQLite may use the partial index `jobs_ready`: it does not infer that
            // `state = 'retrying'` implies the index's WHERE, and without it this is a full scan (236 ms at 1M rows).
            let next = try db.cached(
                """
                SELECT min(next_attempt_at) FROM jobs WHERE state IN ('queued','retrying') AND state = 'retrying'
                """)
            if try next.step() { snapshot.nextRetryAt = next.optionalInt64(0) }

            // Written as the partial index `jobs_failed_open` is, so it serves the order without reading dismissed rows.
            let failures = try db.cached(
                """
                SELECT \(columns) FROM jobs WHERE state = 'failed' \(hasDismissed ? "AND dismissed = 0" : "")
                ORDER BY updated_at DESC, id DESC LIMIT ?1
                """)
            failures.bind(1, failureLimit)
            while try failures.step() { snapshot.recentFailures.append(Self.job(from: failures)) }

            let now = Timestamp.nowMillis()
            let uploaded = try db.cached(
                "SELECT count(*) FROM jobs WHERE uploaded_at IS NOT NULL AND uploaded_at >= ?1")
            uploaded.bind(1, Timestamp.iso8601(millis: now - 60_000))
            if try uploaded.step() { snapshot.uploadsLastMinute = uploaded.int(0) }
            uploaded.reset()
            uploaded.bind(1, Timestamp.iso8601(millis: now - 3_600_000))
            if try uploaded.step() { snapshot.uploadsLastHour = uploaded.int(0) }

            let last = try db.cached("SELECT max(uploaded_at) FROM jobs WHERE uploaded_at IS NOT NULL")
            if try last.step() { snapshot.lastUploadAt = last.string(0) }
            return snapshot
        }
    }

    /// When a job last ended done: the newest `uploaded_at` of the jobs and of the versions `prune` removed
    /// (so pruning history does not make the last success look older). Both reads are index lookups; the
    /// aggregate `max` skips a side that has none, where SQLite's two-argument `max` would give NULL.
    package func lastSuccessAt() throws -> String? {
        try withDatabase { db in
            let statement = try db.cached(
                """
                SELECT max(at) FROM (SELECT max(uploaded_at) AS at FROM jobs WHERE uploaded_at IS NOT NULL
                                     UNION ALL SELECT max(uploaded_at) FROM stored_versions)
                """)
            return try statement.step() ? statement.string(0) : nil
        }
    }

    package func daemonRecord() throws -> DaemonRecord {
        try withDatabase { db in
            let statement = try db.cached(
                """
                SELECT pid, host, version, started_at, heartbeat_at, heartbeat_ms, stopped_at, paused, status_line
                FROM daemon WHERE id = 1
                """)
            guard try statement.step() else { return DaemonRecord() }
            return DaemonRecord(
                pid: statement.optionalInt(0), host: statement.string(1), version: statement.string(2),
                startedAt: statement.string(3), heartbeatAt: statement.string(4),
                heartbeatMillis: statement.optionalInt64(5), stoppedAt: statement.string(6),
                paused: statement.string(7), statusLine: statement.string(8),
                unwatchedFolders: try Self.hasUnwatchedColumn(db) ? Self.unwatchedFolders(db) : 0,
                concurrencyJSON: try Self.hasColumn(db, "concurrency") ? Self.concurrencyJSON(db) : nil,
                reloadRefused: try Self.hasColumn(db, "reload_refused_at") ? Self.reloadRefusal(db) : nil,
                operatorPause: try Self.hasColumn(db, "operator_paused_at") ? Self.operatorPause(db) : nil,
                etaSeconds: try Self.hasColumn(db, "eta_s") ? Self.backlogETA(db) : nil,
                recordsETA: try Self.hasColumn(db, "eta_s"),
                fleetDegraded: try Self.hasColumn(db, "fleet_degraded") ? Self.fleetDegraded(db) : nil)
        }
    }

    /// Whether the `daemon` table has a column: a reader may open a table an older daemon wrote.
    package static func hasColumn(_ db: Database, _ name: String) throws -> Bool {
        let statement = try db.cached("SELECT count(*) FROM pragma_table_info('daemon') WHERE name = ?1")
        statement.bind(1, name)
        defer { statement.reset() }
        return try statement.step() && statement.int(0) > 0
    }

    private static func concurrencyJSON(_ db: Database) throws -> String? {
        let statement = try db.cached("SELECT concurrency FROM daemon WHERE id = 1")
        return try statement.step() ? statement.string(0) : nil
    }

    /// A reader may open a table an older daemon wrote (it never migrates): the column may not exist yet.
    private static func hasUnwatchedColumn(_ db: Database) throws -> Bool {
        let statement = try db.cached(
            "SELECT count(*) FROM pragma_table_info('daemon') WHERE name = 'unwatched_folders'")
        return try statement.step() && statement.int(0) > 0
    }

    private static func unwatchedFolders(_ db: Database) throws -> Int {
        let statement = try db.cached("SELECT unwatched_folders FROM daemon WHERE id = 1")
        return try statement.step() ? statement.int(0) : 0
    }

    /// A start loaded the config file whole: no reload refusal of an earlier run applies to it. The operator's
    /// pause is left as it is (it outlives daemons).
    package func recordDaemonStart(pid: Int, host: String, version: String) throws {
        let now = Timestamp.nowMillis()
        try execute(
            """
            UPDATE daemon SET pid = ?1, host = ?2, version = ?3, started_at = ?4, heartbeat_at = ?4, heartbeat_ms = ?5,
                   stopped_at = NULL, paused = NULL, status_line = NULL, unwatched_folders = 0, concurrency = NULL,
                   reload_refused_at = NULL, reload_refused_error = NULL, eta_s = NULL, fleet_degraded = NULL
            WHERE id = 1
            """
        ) { statement in
            statement.bind(1, pid).bind(2, host).bind(3, version).bind(4, Timestamp.iso8601(millis: now)).bind(5, now)
        }
    }

    package func recordHeartbeat(statusLine: String?, unwatchedFolders: Int = 0, concurrencyJSON: String? = nil) throws
    {
        let now = Timestamp.nowMillis()
        try execute(
            """
            UPDATE daemon SET heartbeat_at = ?1, heartbeat_ms = ?2, status_line = ?3, unwatched_folders = ?4,
                   concurrency = ?5 WHERE id = 1
            """
        ) { statement in
            statement.bind(1, Timestamp.iso8601(millis: now)).bind(2, now).bind(3, statusLine).bind(4, unwatchedFolders)
                .bind(5, concurrencyJSON)
        }
    }

    package func recordPause(_ reason: String?) throws {
        try execute("UPDATE daemon SET paused = ?1 WHERE id = 1") { statement in statement.bind(1, reason) }
    }

    package func recordDaemonStop() throws {
        try execute(
            "UPDATE daemon SET pid = NULL, stopped_at = ?1, paused = NULL, unwatched_folders = 0, concurrency = NULL WHERE id = 1"
        ) { statement in
            statement.bind(1, Timestamp.nowISO8601())
        }
    }
}
