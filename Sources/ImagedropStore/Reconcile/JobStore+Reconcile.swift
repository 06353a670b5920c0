import FoundationEssentials
import ImagedropSupport
import ImagedropSystem

/// The join behind `reconcile`, in this connection's TEMP tables (the temp database: on disk beside the page
/// cache, gone when the connection closes, and never written to the job table or locked against the daemon):
/// `reconcile_done` is the ledger's done jobs, `reconcile_images` the account's images as the pages arrive.
/// Neither side is held in memory; each difference is read back in pages by key.
///
/// The done jobs are taken before the first page is asked for, so an image whose job was done by then is
/// listed unless it is really gone (no false `missing` while the daemon keeps uploading); jobs done while the
/// pages were read are added afterwards (`addJobsDone(since:)`) so their images are not `unrecorded` either.
/// Variants are compared as sorted JSON arrays, written the same way on both sides by SQLite itself.
extension JobStore {
    private static func sortedVariants(_ column: String) -> String {
        """
        CASE WHEN json_valid(\(column)) THEN (SELECT json_group_array(value) FROM
            (SELECT value FROM json_each(\(column)) ORDER BY value)) ELSE \(column) END
        """
    }

    /// Creates the temp tables and takes the ledger's done jobs (those of `source` are in scope; all are
    /// kept, so an image recorded by another source's job is not `unrecorded`). Returns the done jobs in scope.
    package func beginReconcile(source: String?) throws -> Int {
        try withDatabase { db in
            try db.execute(
                """
                DROP TABLE IF EXISTS temp.reconcile_done;
                DROP TABLE IF EXISTS temp.reconcile_images;
                CREATE TEMP TABLE reconcile_done (job_id INTEGER PRIMARY KEY, image_id TEXT NOT NULL, variants TEXT,
                                                  in_scope INTEGER NOT NULL, taken_before INTEGER NOT NULL);
                CREATE INDEX temp.reconcile_done_image ON reconcile_done(image_id);
                CREATE TEMP TABLE reconcile_images (id TEXT PRIMARY KEY, variants TEXT, sha256 TEXT, source_path TEXT,
                                                    job_key TEXT, uploaded TEXT) WITHOUT ROWID;
                """)
            try insertDone(db, condition: "", source: source, before: true)
            let count = try db.prepare("SELECT count(*) FROM temp.reconcile_done WHERE in_scope = 1")
            return try count.step() ? count.int(0) : 0
        }
    }

    /// Done jobs uploaded since `isoTime` (done while the account was read), added to the ledger's side.
    package func addJobsDone(since isoTime: String, source: String?) throws {
        try withDatabase { db in
            try insertDone(db, condition: "AND uploaded_at >= ?2", source: source, before: false, since: isoTime)
        }
    }

    private func insertDone(
        _ db: Database, condition: String, source: String?, before: Bool, since: String? = nil
    ) throws {
        let sourceColumn = hasSource ? "source" : "'\(SourceSettings.defaultName)'"
        let insert = try db.prepare(
            """
            INSERT OR IGNORE INTO temp.reconcile_done (job_id, image_id, variants, in_scope, taken_before)
            SELECT id, image_id, \(Self.sortedVariants("variants")), ?1 IS NULL OR \(sourceColumn) = ?1, \(before ? 1 : 0)
            FROM main.jobs WHERE state = 'done' AND image_id IS NOT NULL \(condition)
            """)
        insert.bind(1, source)
        if let since { insert.bind(2, since) }
        try insert.run()
    }

    /// One page of the account, in one transaction of the temp database.
    package func addAccountImages(_ images: [AccountImage]) throws {
        guard !images.isEmpty else { return }
        try withDatabase { db in
            try db.transaction {
                let insert = try db.cached(
                    """
                    INSERT OR REPLACE INTO temp.reconcile_images (id, variants, sha256, source_path, job_key, uploaded)
                    VALUES (?1, \(Self.sortedVariants("?2")), ?3, ?4, ?5, ?6)
                    """)
                for image in images {
                    insert.reset()
                    insert.bind(1, image.id).bind(2, JSONText.encodeStringArray(image.variants)).bind(3, image.sha256)
                        .bind(4, image.sourcePath).bind(5, image.jobKey).bind(6, image.uploaded)
                    try insert.run()
                }
            }
        }
    }

    package func accountImageCount() throws -> Int {
        try withDatabase { db in
            let count = try db.prepare("SELECT count(*) FROM temp.reconcile_images")
            return try count.step() ? count.int(0) : 0
        }
    }

    /// Done jobs in scope, taken before the listing, whose image the account no longer holds — still done
    /// with that image now (one changed meanwhile is not reported). Ordered by job id, after `afterID`.
    package func missingJobs(after afterID: Int64, limit: Int) throws -> [Job] {
        try withDatabase { db in
            let select = try db.cached(
                """
                SELECT \(columns.qualified) FROM temp.reconcile_done d JOIN main.jobs ON jobs.id = d.job_id
                WHERE d.in_scope = 1 AND d.taken_before = 1 AND d.job_id > ?1
                  AND jobs.state = 'done' AND jobs.image_id = d.image_id
                  AND NOT EXISTS (SELECT 1 FROM temp.reconcile_images i WHERE i.id = d.image_id)
                ORDER BY d.job_id LIMIT ?2
                """)
            select.bind(1, afterID).bind(2, limit)
            var jobs: [Job] = []
            while try select.step() { jobs.append(Self.job(from: select)) }
            return jobs
        }
    }

    /// Done jobs in scope whose image the account holds with other variants.
    package func staleJobs(after afterID: Int64, limit: Int) throws -> [StaleJob] {
        try withDatabase { db in
            let select = try db.cached(
                """
                SELECT \(columns.qualified), i.variants FROM temp.reconcile_done d
                JOIN temp.reconcile_images i ON i.id = d.image_id JOIN main.jobs ON jobs.id = d.job_id
                WHERE d.in_scope = 1 AND d.job_id > ?1 AND d.variants IS NOT i.variants
                  AND jobs.state = 'done' AND jobs.image_id = d.image_id
                ORDER BY d.job_id LIMIT ?2
                """)
            select.bind(1, afterID).bind(2, limit)
            // The account's variants come right after the job's columns, however many this table has.
            let accountColumn = Int32(columns.split(separator: ",").count)
            var stale: [StaleJob] = []
            while try select.step() {
                stale.append(
                    StaleJob(
                        job: Self.job(from: select),
                        accountVariants: JSONText.decodeStringArray(select.string(accountColumn) ?? "[]")))
            }
            return stale
        }
    }

    /// Images carrying imagedrop's metadata that no done job records, ordered by id, after `afterID`.
    package func unrecordedImages(after afterID: String?, limit: Int) throws -> [AccountImage] {
        try withDatabase { db in
            let select = try db.cached(
                """
                SELECT id, variants, sha256, source_path, job_key, uploaded FROM temp.reconcile_images i
                WHERE (?1 IS NULL OR i.id > ?1) AND i.sha256 IS NOT NULL AND i.source_path IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM temp.reconcile_done d WHERE d.image_id = i.id)
                ORDER BY i.id LIMIT ?2
                """)
            select.bind(1, afterID).bind(2, limit)
            var images: [AccountImage] = []
            while try select.step() {
                images.append(
                    AccountImage(
                        id: select.string(0) ?? "",
                        variants: JSONText.decodeStringArray(select.string(1) ?? "[]"),
                        sha256: select.string(2), sourcePath: select.string(3),
                        jobKey: select.string(4), uploaded: select.string(5)))
            }
            return images
        }
    }
}

extension String {
    /// The job columns, each named with its table (the reconcile joins have columns of the same names).
    fileprivate var qualified: String {
        split(separator: ",").map { column -> String in
            let name = column.trimmed()
            // Constants standing in for columns an older table lacks (`0 AS sends`) need no table.
            return name.contains(" AS ") ? name : "jobs." + name
        }.joined(separator: ", ")
    }
}
