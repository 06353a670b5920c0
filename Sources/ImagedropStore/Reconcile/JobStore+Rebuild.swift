import ImagedropSupport
import ImagedropSystem

/// What `reconcile --fix` writes: a `done` job for an image the account holds and the ledger lost (no upload),
/// and variants refreshed from the account. Missing images go back to the queue through `retryFailed`.
extension JobStore {
    /// A file found at its watch root with the bytes an unrecorded image was made from.
    package struct RebuiltJob: Sendable, Equatable {
        package var path: RawPath
        package var root: RawPath
        package var source: String
        package var size: Int
        package var mtimeNanos: Int64
        package var sha256: String
        package var image: AccountImage

        package init(
            path: RawPath, root: RawPath, source: String, size: Int, mtimeNanos: Int64, sha256: String,
            image: AccountImage
        ) {
            self.path = path
            self.root = root
            self.source = source
            self.size = size
            self.mtimeNanos = mtimeNanos
            self.sha256 = sha256
            self.image = image
        }
    }

    package enum RebuildResult: Sendable, Equatable {
        /// A new `done` row.
        case inserted(Int64)
        /// The file's waiting job (queued by a daemon that rescanned the folder first) is now `done` with the image.
        case completedWaiting(Int64)
        /// The file already has a job in another state (in flight, or done/failed with another image): left alone.
        case alreadyRecorded(Int64, JobState)
    }

    /// Records the file as uploaded to `image`, in one transaction. The row is what an upload would have
    /// written (path, root, size, mtime, sha256, image id, variants, source), so the watcher's next scan sees
    /// the file as known and sends nothing; `job_key` is the image's `imagedrop_job` when it has one, so a
    /// Cloudflare-chosen id can still be looked for by it.
    ///
    /// No `done` webhook: the upload happened earlier and was announced then. The outbox triggers would add a
    /// delivery whenever the last daemon's `[webhook] events` included `done` (and none on a database rebuilt
    /// from scratch, where no daemon has said so yet); the row they add is deleted in the same transaction, so
    /// nothing outside it ever sees one and the answer does not depend on which daemon ran last.
    package func recordRebuilt(_ rebuilt: RebuiltJob) throws -> RebuildResult {
        let now = Timestamp.nowISO8601()
        return try withDatabase { db in
            try db.transaction {
                let last = try db.cached("SELECT COALESCE(max(id), 0) FROM webhook_outbox")
                let lastDelivery = try last.step() ? last.int64(0) : 0
                last.reset()
                let result = try writeRebuilt(rebuilt, db: db, now: now)
                switch result {
                case .inserted(let id), .completedWaiting(let id):
                    let unsent = try db.cached("DELETE FROM webhook_outbox WHERE id > ?1 AND job_id = ?2")
                    unsent.bind(1, lastDelivery).bind(2, id)
                    try unsent.run()
                case .alreadyRecorded:
                    break
                }
                return result
            }
        }
    }

    private func writeRebuilt(_ rebuilt: RebuiltJob, db: Database, now: String) throws -> RebuildResult {
        let existing = try db.cached(
            """
            SELECT id, state FROM jobs WHERE path_key = ?1
              AND ((size = ?2 AND mtime_ns = ?3) OR state NOT IN ('done','failed'))
            ORDER BY id DESC LIMIT 1
            """)
        existing.bind(1, blob: rebuilt.path.bytes).bind(2, rebuilt.size).bind(3, rebuilt.mtimeNanos)
        if try existing.step() {
            let id = existing.int64(0)
            let state = JobState(rawValue: existing.string(1) ?? "") ?? .queued
            existing.reset()
            guard state == .queued || state == .retrying else { return .alreadyRecorded(id, state) }
            let complete = try db.cached(
                """
                UPDATE jobs SET state = 'done', image_id = ?2, variants = ?3, sha256 = ?4, size = ?5, mtime_ns = ?6,
                       last_error = NULL, last_code = NULL, uploaded_at = ?7, updated_at = ?8
                WHERE id = ?1 AND state IN ('queued','retrying')
                """)
            complete.bind(1, id).bind(2, rebuilt.image.id).bind(3, JSONText.encodeStringArray(rebuilt.image.variants))
                .bind(4, rebuilt.sha256).bind(5, rebuilt.size).bind(6, rebuilt.mtimeNanos)
                .bind(7, rebuilt.image.uploaded ?? now).bind(8, now)
            try complete.run()
            return .completedWaiting(id)
        }
        existing.reset()
        let insert = try db.cached(
            """
            INSERT INTO jobs (path, path_raw, path_key, root_key, state, attempts, image_id, variants, size, mtime_ns,
                              sha256, job_key, next_attempt_at, created_at, updated_at, uploaded_at, source)
            VALUES (?1, ?2, ?3, ?4, 'done', 0, ?5, ?6, ?7, ?8, ?9, ?10, 0, ?11, ?11, ?12, ?13)
            """)
        insert.bind(1, rebuilt.path.display)
            .bind(2, blob: rebuilt.path.isValidUTF8 ? nil : rebuilt.path.bytes)
            .bind(3, blob: rebuilt.path.bytes)
            .bind(4, blob: rebuilt.root.bytes)
            .bind(5, rebuilt.image.id)
            .bind(6, JSONText.encodeStringArray(rebuilt.image.variants))
            .bind(7, rebuilt.size)
            .bind(8, rebuilt.mtimeNanos)
            .bind(9, rebuilt.sha256)
            .bind(10, rebuilt.image.jobKey ?? JobKey.make())
            .bind(11, now)
            .bind(12, rebuilt.image.uploaded ?? now)
            .bind(13, rebuilt.source)
        try insert.run()
        return .inserted(db.lastInsertRowID)
    }

    /// Writes the account's variants into a done job that still records `imageID`. False when it changed meanwhile.
    @discardableResult
    package func refreshVariants(jobID: Int64, imageID: String, variants: [String]) throws -> Bool {
        try executeCountingChanges(
            """
            UPDATE jobs SET variants = ?3, updated_at = ?4 WHERE id = ?1 AND state = 'done' AND image_id = ?2
            """
        ) { statement in
            statement.bind(1, jobID).bind(2, imageID).bind(3, JSONText.encodeStringArray(variants))
                .bind(4, Timestamp.nowISO8601())
        } > 0
    }
}
