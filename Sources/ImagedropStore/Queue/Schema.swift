import ImagedropSystem

/// The job table's schema, versioned with `PRAGMA user_version` and migrated forward on open.
/// The `jobs` columns named in DESIGN.md are a public interface: add columns, never rename or drop them.
package enum Schema {
    package static let migrations: [String] = [
        // v1
        """
        CREATE TABLE jobs (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL,
            path_raw BLOB,
            path_key BLOB NOT NULL,
            root_key BLOB,
            state TEXT NOT NULL CHECK (state IN ('queued','uploading','retrying','done','failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            last_code INTEGER,
            image_id TEXT,
            variants TEXT,
            size INTEGER,
            mtime_ns INTEGER,
            sha256 TEXT,
            job_key TEXT NOT NULL,
            next_attempt_at INTEGER NOT NULL DEFAULT 0,
            lease_until INTEGER,
            after_action TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            uploaded_at TEXT
        );
        -- At most one unfinished job per file: a newer version of a waiting file updates that job in place.
        CREATE UNIQUE INDEX jobs_active_path ON jobs(path_key) WHERE state IN ('queued','uploading','retrying');
        CREATE INDEX jobs_version ON jobs(path_key, size, mtime_ns);
        CREATE INDEX jobs_path ON jobs(path);
        -- Partial indexes keep claim and status independent of how many done jobs the table holds.
        CREATE INDEX jobs_ready ON jobs(next_attempt_at, id) WHERE state IN ('queued','retrying');
        CREATE INDEX jobs_lease ON jobs(lease_until) WHERE state = 'uploading';
        CREATE INDEX jobs_failed ON jobs(updated_at) WHERE state = 'failed';
        CREATE INDEX jobs_uploaded ON jobs(uploaded_at) WHERE uploaded_at IS NOT NULL;
        CREATE INDEX jobs_after_action ON jobs(id) WHERE after_action IS NOT NULL;

        -- Counts per state kept by triggers, so `status` costs the same with 1,000 or 1,000,000 rows.
        CREATE TABLE job_counts (state TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
        INSERT INTO job_counts(state, n) VALUES ('queued',0),('uploading',0),('retrying',0),('done',0),('failed',0);
        CREATE TRIGGER jobs_count_insert AFTER INSERT ON jobs BEGIN
            UPDATE job_counts SET n = n + 1 WHERE state = NEW.state;
        END;
        CREATE TRIGGER jobs_count_delete AFTER DELETE ON jobs BEGIN
            UPDATE job_counts SET n = n - 1 WHERE state = OLD.state;
        END;
        CREATE TRIGGER jobs_count_update AFTER UPDATE OF state ON jobs WHEN OLD.state <> NEW.state BEGIN
            UPDATE job_counts SET n = n - 1 WHERE state = OLD.state;
            UPDATE job_counts SET n = n + 1 WHERE state = NEW.state;
        END;

        -- The running daemon's own record: pid, heartbeat, pause reason, for `status` without a daemon RPC.
        CREATE TABLE daemon (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            pid INTEGER,
            host TEXT,
            version TEXT,
            started_at TEXT,
            heartbeat_at TEXT,
            heartbeat_ms INTEGER,
            stopped_at TEXT,
            paused TEXT,
            status_line TEXT
        );
        INSERT INTO daemon(id) VALUES (1);
        """,
        // v2: uploads that may have reached the API (committed before each send). With Cloudflare-chosen ids
        // this, not `attempts` (which `retry` resets and aborted sends do not count), says whether an earlier
        // upload must be looked for before sending again.
        """
        ALTER TABLE jobs ADD COLUMN sends INTEGER NOT NULL DEFAULT 0;
        """,
        // Folders the daemon cannot watch (inotify's watch limit) and lists by polling instead, for `status`.
        """
        ALTER TABLE daemon ADD COLUMN unwatched_folders INTEGER NOT NULL DEFAULT 0;
        """,
        // Requests sent to the API per wall-clock second, pruned to the budget's window: a restarted daemon
        // (or `check` before it) keeps to requests_per_5min across the restart. Written in reservations
        // ahead of the sends they cover (RequestLedger), so a crash can only over-count.
        """
        CREATE TABLE IF NOT EXISTS request_log (second INTEGER PRIMARY KEY, n INTEGER NOT NULL);
        """,
        // Files: where a moved file went (recorded before the rename, so a replay after a crash finds it), the
        // versions whose done jobs `prune` removed (so pruning never makes a kept file new), and image deletes
        // that are owed (an upload that sent mixed bytes), retried like uploads until the API confirms them.
        """
        ALTER TABLE jobs ADD COLUMN moved_to TEXT;
        ALTER TABLE jobs ADD COLUMN moved_to_key BLOB;
        CREATE TABLE stored_versions (
            path_key BLOB NOT NULL,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            sha256 TEXT,
            image_id TEXT,
            uploaded_at TEXT,
            PRIMARY KEY (path_key, size, mtime_ns)
        ) WITHOUT ROWID;
        CREATE TABLE owed_deletes (
            image_id TEXT PRIMARY KEY,
            job_id INTEGER,
            reason TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL DEFAULT 0,
            lease_until INTEGER,
            last_error TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX owed_deletes_job ON owed_deletes(job_id);
        """,
        // Inputs: URL jobs (Cloudflare fetches `url`; `path` holds it with any password shown as `***`).
        """
        ALTER TABLE jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'file';
        ALTER TABLE jobs ADD COLUMN url TEXT;
        """,
        // Webhooks: one outbox row per job outcome, written by triggers in the very transaction that records the
        // outcome (whatever code path writes it), so a crash can lose no notification. `webhook_events` holds the
        // events the running daemon's `[webhook] events` asks for (empty: no webhook, no rows). The row keeps the
        // job as it was at the outcome; its delivery id is made once and sent with every retry of it.
        """
        CREATE TABLE webhook_events (event TEXT PRIMARY KEY) WITHOUT ROWID;
        CREATE TABLE webhook_outbox (
            id INTEGER PRIMARY KEY,
            job_id INTEGER NOT NULL,
            event TEXT NOT NULL,
            delivery_id TEXT NOT NULL UNIQUE,
            job_json TEXT NOT NULL,
            at TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','dead')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL DEFAULT 0,
            last_error TEXT
        );
        CREATE INDEX webhook_outbox_pending ON webhook_outbox(job_id, id) WHERE state = 'pending';
        CREATE INDEX webhook_outbox_ready ON webhook_outbox(next_attempt_at, id) WHERE state = 'pending';
        CREATE INDEX webhook_outbox_dead ON webhook_outbox(id) WHERE state = 'dead';
        CREATE TRIGGER jobs_webhook_update AFTER UPDATE OF state ON jobs
        WHEN NEW.state IN ('done','failed') AND OLD.state <> NEW.state
             AND EXISTS (SELECT 1 FROM webhook_events WHERE event = NEW.state) BEGIN
            INSERT INTO webhook_outbox (job_id, event, delivery_id, job_json, at)
            VALUES (NEW.id, NEW.state, lower(hex(randomblob(16))),
                    json_object('id', NEW.id, 'path', NEW.path, 'state', NEW.state, 'image_id', NEW.image_id,
                                'variants', json(COALESCE(NEW.variants, '[]')), 'sha256', NEW.sha256,
                                'last_error', NEW.last_error),
                    strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
        END;
        CREATE TRIGGER jobs_webhook_insert AFTER INSERT ON jobs
        WHEN NEW.state IN ('done','failed') AND EXISTS (SELECT 1 FROM webhook_events WHERE event = NEW.state) BEGIN
            INSERT INTO webhook_outbox (job_id, event, delivery_id, job_json, at)
            VALUES (NEW.id, NEW.state, lower(hex(randomblob(16))),
                    json_object('id', NEW.id, 'path', NEW.path, 'state', NEW.state, 'image_id', NEW.image_id,
                                'variants', json(COALESCE(NEW.variants, '[]')), 'sha256', NEW.sha256,
                                'last_error', NEW.last_error),
                    strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
        END;
        """,
        // Sources: each job records the source whose rules it follows (jobs from before sources belong to
        // `default`, the top-level [watch] paths). Counts per source and state are kept by triggers, as
        // `job_counts` are, so per-source `status` and metrics cost the same at any table size.
        """
        ALTER TABLE jobs ADD COLUMN source TEXT NOT NULL DEFAULT 'default';
        CREATE INDEX jobs_source ON jobs(source, state);
        CREATE TABLE source_counts (source TEXT NOT NULL, state TEXT NOT NULL, n INTEGER NOT NULL,
                                    PRIMARY KEY (source, state)) WITHOUT ROWID;
        INSERT INTO source_counts (source, state, n) SELECT source, state, count(*) FROM jobs GROUP BY source, state;
        CREATE TRIGGER jobs_source_count_insert AFTER INSERT ON jobs BEGIN
            INSERT OR IGNORE INTO source_counts (source, state, n) VALUES (NEW.source, NEW.state, 0);
            UPDATE source_counts SET n = n + 1 WHERE source = NEW.source AND state = NEW.state;
        END;
        CREATE TRIGGER jobs_source_count_delete AFTER DELETE ON jobs BEGIN
            UPDATE source_counts SET n = n - 1 WHERE source = OLD.source AND state = OLD.state;
        END;
        CREATE TRIGGER jobs_source_count_update AFTER UPDATE OF state, source ON jobs
        WHEN OLD.state <> NEW.state OR OLD.source <> NEW.source BEGIN
            UPDATE source_counts SET n = n - 1 WHERE source = OLD.source AND state = OLD.state;
            INSERT OR IGNORE INTO source_counts (source, state, n) VALUES (NEW.source, NEW.state, 0);
            UPDATE source_counts SET n = n + 1 WHERE source = NEW.source AND state = NEW.state;
        END;
        """,
        // The daemon's concurrency as its heartbeat last recorded it (JSON: current, max, mode, bound), for `status`.
        """
        ALTER TABLE daemon ADD COLUMN concurrency TEXT;
        """,
        // How many daemons in a row died while this job was claimed (pre-flight or in flight): two make it
        // quarantined instead of a crash loop. The partial index keeps the claim's "any suspect?" check free.
        """
        ALTER TABLE jobs ADD COLUMN interrupted INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX jobs_suspect ON jobs(state, next_attempt_at) WHERE interrupted > 0;
        """,
        // Webhooks: the outbox row carries everything it sends, `source` included. The sender read `source` from
        // `jobs` when sending, so a delivery still pending when `prune` removed its job went out as `default`.
        // Rows written before this step get their job's source now (or `default`, which they would have sent).
        """
        DROP TRIGGER jobs_webhook_update;
        DROP TRIGGER jobs_webhook_insert;
        CREATE TRIGGER jobs_webhook_update AFTER UPDATE OF state ON jobs
        WHEN NEW.state IN ('done','failed') AND OLD.state <> NEW.state
             AND EXISTS (SELECT 1 FROM webhook_events WHERE event = NEW.state) BEGIN
            INSERT INTO webhook_outbox (job_id, event, delivery_id, job_json, at)
            VALUES (NEW.id, NEW.state, lower(hex(randomblob(16))),
                    json_object('id', NEW.id, 'path', NEW.path, 'source', NEW.source, 'state', NEW.state,
                                'image_id', NEW.image_id, 'variants', json(COALESCE(NEW.variants, '[]')),
                                'sha256', NEW.sha256, 'last_error', NEW.last_error),
                    strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
        END;
        CREATE TRIGGER jobs_webhook_insert AFTER INSERT ON jobs
        WHEN NEW.state IN ('done','failed') AND EXISTS (SELECT 1 FROM webhook_events WHERE event = NEW.state) BEGIN
            INSERT INTO webhook_outbox (job_id, event, delivery_id, job_json, at)
            VALUES (NEW.id, NEW.state, lower(hex(randomblob(16))),
                    json_object('id', NEW.id, 'path', NEW.path, 'source', NEW.source, 'state', NEW.state,
                                'image_id', NEW.image_id, 'variants', json(COALESCE(NEW.variants, '[]')),
                                'sha256', NEW.sha256, 'last_error', NEW.last_error),
                    strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
        END;
        UPDATE webhook_outbox
        SET job_json = json_set(job_json, '$.source',
                                COALESCE((SELECT source FROM jobs WHERE jobs.id = webhook_outbox.job_id), 'default'))
        WHERE json_extract(job_json, '$.source') IS NULL;
        """,
        // Operator truth: a reload the running daemon refused (when, and the config error's "key: problem"), kept
        // until a good reload or the next start; a pause the operator asked for (`imagedrop pause`), which
        // outlives the daemon: neither a start nor a stop clears it, only `imagedrop resume`; and the backlog's
        // ETA as the daemon computed it at its last heartbeat (BacklogETA), so every place shows one figure.
        """
        ALTER TABLE daemon ADD COLUMN eta_s INTEGER;
        ALTER TABLE daemon ADD COLUMN reload_refused_at TEXT;
        ALTER TABLE daemon ADD COLUMN reload_refused_error TEXT;
        ALTER TABLE daemon ADD COLUMN operator_paused_at TEXT;
        ALTER TABLE daemon ADD COLUMN operator_pause_reason TEXT;
        """,
        // `imagedrop dismiss`: a failed job the operator acknowledged. It stays `failed` in `state` (the public
        // column keeps its five values) but leaves the failed counts of `status`, the page and the metrics.
        // `job_counts`/`source_counts` keep counting raw states (they equal a GROUP BY state); the dismissed
        // ones are counted apart, per source, by triggers of their own, and subtracted when read. A job counts
        // as dismissed only while it is `failed` too, so any way out of `failed` takes it out of the count.
        // The partial index serves the recent-failures list, which skips dismissed jobs; the stored_versions
        // index makes the newest success (pruned jobs included) a lookup for the metrics.
        """
        ALTER TABLE jobs ADD COLUMN dismissed INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX jobs_failed_open ON jobs(updated_at) WHERE state = 'failed' AND dismissed = 0;
        CREATE TABLE dismissed_counts (source TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TRIGGER jobs_dismissed_count_insert AFTER INSERT ON jobs
        WHEN NEW.state = 'failed' AND NEW.dismissed = 1 BEGIN
            INSERT OR IGNORE INTO dismissed_counts (source, n) VALUES (NEW.source, 0);
            UPDATE dismissed_counts SET n = n + 1 WHERE source = NEW.source;
        END;
        CREATE TRIGGER jobs_dismissed_count_delete AFTER DELETE ON jobs
        WHEN OLD.state = 'failed' AND OLD.dismissed = 1 BEGIN
            UPDATE dismissed_counts SET n = n - 1 WHERE source = OLD.source;
        END;
        CREATE TRIGGER jobs_dismissed_count_update AFTER UPDATE OF state, dismissed, source ON jobs
        WHEN (OLD.state = 'failed' AND OLD.dismissed = 1) OR (NEW.state = 'failed' AND NEW.dismissed = 1) BEGIN
            UPDATE dismissed_counts SET n = n - 1 WHERE source = OLD.source AND OLD.state = 'failed' AND OLD.dismissed = 1;
            INSERT OR IGNORE INTO dismissed_counts (source, n)
                SELECT NEW.source, 0 WHERE NEW.state = 'failed' AND NEW.dismissed = 1;
            UPDATE dismissed_counts SET n = n + 1 WHERE source = NEW.source AND NEW.state = 'failed' AND NEW.dismissed = 1;
        END;
        CREATE INDEX stored_versions_uploaded ON stored_versions(uploaded_at);
        """,
        // The account's image quota as the daemon last read it (`GET …/images/v1/stats`), for `status` and the
        // status page. A table of its own, not `daemon` columns: it stays known while no daemon runs.
        """
        CREATE TABLE IF NOT EXISTS account_quota (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            allowed INTEGER NOT NULL,
            current INTEGER NOT NULL,
            checked_at TEXT NOT NULL
        );
        """,
        // The fleet: why this host goes on alone (Redis unreachable or slow), from its last heartbeat; NULL while it
        // shares the fleet's budget or runs without `[fleet]`. `status` says `fleet: degraded (…)`.
        """
        ALTER TABLE daemon ADD COLUMN fleet_degraded TEXT;
        """,
        // A 429's block (until its Retry-After, capped), in wall-clock ms with its length: a daemon restarted
        // inside it (or `check` before it) sends nothing until it ends. A table of its own: it outlives the process.
        """
        CREATE TABLE IF NOT EXISTS api_block (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            until_ms INTEGER NOT NULL,
            length_ms INTEGER NOT NULL
        );
        """,
        // Counts kept with fewer statements per state change: the count triggers ran five statements for each
        // (two on `job_counts`, three on `source_counts`), ten per upload, a good part of SQLite's time (issue
        // 25). `job_counts` becomes a view over `source_counts`, with the same rows and columns (every reader's
        // `SELECT state, n FROM job_counts` reads on), so one set of counters is kept, not two; and a source has
        // a row for each of the five states from its first job on, so a state change is one UPDATE of two rows.
        // Both stay exact in every transaction, whoever writes (the daemon, `enqueue`, `retry`, `prune`, …).
        """
        DROP TRIGGER jobs_count_insert;
        DROP TRIGGER jobs_count_delete;
        DROP TRIGGER jobs_count_update;
        DROP TABLE job_counts;
        CREATE VIEW job_counts (state, n) AS
            SELECT states.column1,
                   COALESCE((SELECT SUM(n) FROM source_counts WHERE source_counts.state = states.column1), 0)
            FROM (VALUES ('queued'),('uploading'),('retrying'),('done'),('failed')) AS states;
        INSERT OR IGNORE INTO source_counts (source, state, n)
            SELECT sources.source, states.column1, 0
            FROM (SELECT DISTINCT source FROM source_counts) AS sources,
                 (VALUES ('queued'),('uploading'),('retrying'),('done'),('failed')) AS states;
        DROP TRIGGER jobs_source_count_insert;
        DROP TRIGGER jobs_source_count_update;
        CREATE TRIGGER jobs_source_count_insert AFTER INSERT ON jobs BEGIN
            INSERT OR IGNORE INTO source_counts (source, state, n)
                SELECT NEW.source, states.column1, 0
                FROM (VALUES ('queued'),('uploading'),('retrying'),('done'),('failed')) AS states
                WHERE NOT EXISTS (SELECT 1 FROM source_counts WHERE source = NEW.source);
            UPDATE source_counts SET n = n + 1 WHERE source = NEW.source AND state = NEW.state;
        END;
        CREATE TRIGGER jobs_source_count_update AFTER UPDATE OF state ON jobs
        WHEN OLD.state <> NEW.state AND OLD.source = NEW.source BEGIN
            UPDATE source_counts SET n = n + (CASE WHEN state = NEW.state THEN 1 ELSE -1 END)
            WHERE source = NEW.source AND state IN (OLD.state, NEW.state);
        END;
        CREATE TRIGGER jobs_source_count_move AFTER UPDATE OF source ON jobs
        WHEN OLD.source <> NEW.source BEGIN
            INSERT OR IGNORE INTO source_counts (source, state, n)
                SELECT NEW.source, states.column1, 0
                FROM (VALUES ('queued'),('uploading'),('retrying'),('done'),('failed')) AS states
                WHERE NOT EXISTS (SELECT 1 FROM source_counts WHERE source = NEW.source);
            UPDATE source_counts SET n = n - 1 WHERE source = OLD.source AND state = OLD.state;
            UPDATE source_counts SET n = n + 1 WHERE source = NEW.source AND state = NEW.state;
        END;
        """,
        // `jobs_source (source, state)` served the per-source counts before `source_counts` kept them; since
        // then nothing needs it, and every state change moved its entry from one leaf to another: two of the
        // seven pages a claim or a write-back dirtied (each a WAL frame, written and later checkpointed). The
        // claim's "anything in hand" test reads `jobs_lease` (whose condition is `state = 'uploading'`) instead;
        // `list --source`/`export --source` filter as they read.
        """
        DROP INDEX IF EXISTS jobs_source;
        """,
        // A state change built three or four temporary b-trees and dropped them again (issue 25): SQLite tests a
        // constant `IN` list of three or more values through an ephemeral table made for each statement run, and the
        // `state` CHECK (five values), `jobs_active_path`'s condition (three, for the old row and the new) and the
        // count trigger's `state IN (OLD.state, NEW.state)` were all such lists (a claim keeps the tables of its `id IN
        // (SELECT …)` and RETURNING, which are not constant lists). Each is now said in a form SQLite compares in line,
        // meaning the same rows: the CHECK as five equalities; the index as `state NOT IN ('done','failed')` (two
        // values; `state` is NOT NULL and one of the five), with the queries that use the index saying its condition
        // the same way (SQLite uses a partial index only for a query whose WHERE says its condition); the trigger as
        // one UPDATE per row it moves. A job's insert (and a move to another source) made sure of its source's five
        // counter rows with an INSERT … SELECT that read `source_counts` while writing it, which SQLite stages through
        // a temporary table too; it now offers the five rows and keeps those already there. With an upsert's DO
        // NOTHING, not INSERT OR IGNORE: a trigger's OR clause gives way to the outer statement's, so an outside
        // writer's `INSERT OR REPLACE INTO jobs` would have replaced the counters with zeros, and an `UPDATE OR ABORT`
        // moving a source would have failed on them; an upsert clause is the trigger's own. The dismissed counts'
        // triggers had the same OR IGNORE and take the same clause.
        // A CHECK cannot be altered, and copying the table to change it would rewrite every row: the step edits the
        // table's text in sqlite_master instead, the edit SQLite documents for removing a CHECK (lang_altertable.html,
        // "other kinds of table schema changes"), here to a CHECK that accepts exactly the values the old one did, so
        // every row meets it (`integrity_check`, which tests CHECKs, reads ok after). No row of `jobs` is rewritten;
        // rebuilding the index reads them once. The RESET reparses the schema before the commit (a text that did not
        // parse would fail the step and roll it back); the DDL after it bumps `schema_version`, so every other open
        // connection rereads it. A table whose text does not match (not made by imagedrop) is left as it was.
        """
        PRAGMA writable_schema = ON;
        UPDATE sqlite_master
        SET sql = replace(sql, 'CHECK (state IN (''queued'',''uploading'',''retrying'',''done'',''failed''))',
                          'CHECK (state = ''queued'' OR state = ''uploading'' OR state = ''retrying'''
                          || ' OR state = ''done'' OR state = ''failed'')')
        WHERE type = 'table' AND name = 'jobs';
        PRAGMA writable_schema = RESET;
        DROP INDEX jobs_active_path;
        CREATE UNIQUE INDEX jobs_active_path ON jobs(path_key) WHERE state NOT IN ('done','failed');
        DROP TRIGGER jobs_source_count_update;
        CREATE TRIGGER jobs_source_count_update AFTER UPDATE OF state ON jobs
        WHEN OLD.state <> NEW.state AND OLD.source = NEW.source BEGIN
            UPDATE source_counts SET n = n - 1 WHERE source = NEW.source AND state = OLD.state;
            UPDATE source_counts SET n = n + 1 WHERE source = NEW.source AND state = NEW.state;
        END;
        DROP TRIGGER jobs_source_count_insert;
        CREATE TRIGGER jobs_source_count_insert AFTER INSERT ON jobs BEGIN
            INSERT INTO source_counts (source, state, n)
            VALUES (NEW.source, 'queued', 0), (NEW.source, 'uploading', 0), (NEW.source, 'retrying', 0),
                   (NEW.source, 'done', 0), (NEW.source, 'failed', 0)
            ON CONFLICT DO NOTHING;
            UPDATE source_counts SET n = n + 1 WHERE source = NEW.source AND state = NEW.state;
        END;
        DROP TRIGGER jobs_source_count_move;
        CREATE TRIGGER jobs_source_count_move AFTER UPDATE OF source ON jobs
        WHEN OLD.source <> NEW.source BEGIN
            INSERT INTO source_counts (source, state, n)
            VALUES (NEW.source, 'queued', 0), (NEW.source, 'uploading', 0), (NEW.source, 'retrying', 0),
                   (NEW.source, 'done', 0), (NEW.source, 'failed', 0)
            ON CONFLICT DO NOTHING;
            UPDATE source_counts SET n = n - 1 WHERE source = OLD.source AND state = OLD.state;
            UPDATE source_counts SET n = n + 1 WHERE source = NEW.source AND state = NEW.state;
        END;
        DROP TRIGGER jobs_dismissed_count_insert;
        CREATE TRIGGER jobs_dismissed_count_insert AFTER INSERT ON jobs
        WHEN NEW.state = 'failed' AND NEW.dismissed = 1 BEGIN
            INSERT INTO dismissed_counts (source, n) VALUES (NEW.source, 0) ON CONFLICT DO NOTHING;
            UPDATE dismissed_counts SET n = n + 1 WHERE source = NEW.source;
        END;
        DROP TRIGGER jobs_dismissed_count_update;
        CREATE TRIGGER jobs_dismissed_count_update AFTER UPDATE OF state, dismissed, source ON jobs
        WHEN (OLD.state = 'failed' AND OLD.dismissed = 1) OR (NEW.state = 'failed' AND NEW.dismissed = 1) BEGIN
            UPDATE dismissed_counts SET n = n - 1
            WHERE source = OLD.source AND OLD.state = 'failed' AND OLD.dismissed = 1;
            INSERT INTO dismissed_counts (source, n)
                SELECT NEW.source, 0 WHERE NEW.state = 'failed' AND NEW.dismissed = 1
            ON CONFLICT DO NOTHING;
            UPDATE dismissed_counts SET n = n + 1
            WHERE source = NEW.source AND NEW.state = 'failed' AND NEW.dismissed = 1;
        END;
        """,
    ]

    package static var currentVersion: Int { migrations.count }

    /// Brings the database to the current version, one transaction per step. A database written by a newer
    /// imagedrop is refused rather than guessed at. `target` stops earlier: the tests of a step build the table as
    /// it was before it, the way a real upgrade met it.
    package static func migrate(_ database: Database, to target: Int = currentVersion) throws {
        let version = try database.userVersion
        if version > currentVersion {
            throw SQLiteError(
                code: 0,
                message:
                    "database schema version \(version) is newer than this imagedrop (\(currentVersion)); upgrade imagedrop",
                sql: nil)
        }
        guard version < target else { return }
        for step in version..<target {
            try database.transaction {
                // Re-read under the write lock: another process (a second opener racing the first start) may
                // have applied this step since the version was read above.
                guard try database.userVersion == step else { return }
                try database.execute(migrations[step])
                try database.execute("PRAGMA user_version = \(step + 1)")
            }
        }
    }
}
