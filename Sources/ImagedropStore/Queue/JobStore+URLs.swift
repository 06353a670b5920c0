import ImagedropParsing
import ImagedropSupport
import ImagedropSystem

/// URL jobs: images Cloudflare fetches from a URL. A URL is one job while it waits (queued twice, it is
/// the same job); once finished, queuing it again makes a new job, which content-hash ids answer with 409.
extension JobStore {
    /// Queues the URLs in one transaction: all of them or, on an error, none.
    @discardableResult
    package func enqueueURLs(_ urls: [URLInput], source: String = SourceSettings.defaultName) throws -> [EnqueueResult]
    {
        guard !urls.isEmpty else { return [] }
        return try withDatabase { db in
            try db.transaction { try insertURLs(urls, source: source, db: db) }
        }
    }

    /// A watched `*.urls` file: its URLs are queued and its own job ends `done`, in one transaction, so a
    /// crash between the two can neither lose the URLs nor queue them twice. Returns nil, changing nothing,
    /// when the row no longer tracks `version` (the list was rewritten meanwhile).
    package func completeURLList(
        id: Int64, urls: [URLInput], sha256: String?, afterAction: String?,
        version: Version, source: String = SourceSettings.defaultName
    ) throws -> [EnqueueResult]? {
        try withDatabase { db in
            try db.transaction {
                let now = Timestamp.nowISO8601()
                let done = try db.cached(
                    """
                    UPDATE jobs SET state = 'done', sha256 = COALESCE(?2, sha256), last_error = NULL, last_code = NULL, interrupted = 0,
                           lease_until = NULL, uploaded_at = ?3, updated_at = ?3, after_action = ?4
                    WHERE id = ?1 AND size = ?5 AND mtime_ns = ?6
                    """)
                done.bind(1, id).bind(2, sha256).bind(3, now).bind(4, afterAction).bind(5, version.size)
                    .bind(6, version.mtimeNanos)
                try done.run()
                guard db.changes > 0 else { return nil }
                return try insertURLs(urls, source: source, db: db)
            }
        }
    }

    /// `enqueue --dry-run --url`: which URLs `enqueueURLs` would insert — not waiting already, nor named earlier
    /// in the same list (the real insert would find that one waiting) — read and written nowhere.
    package func wouldInsertURLs(_ urls: [URLInput]) throws -> [Bool] {
        try withDatabase { db in
            try db.readTransaction {
                var seen: Set<String> = []
                return try urls.map { url in
                    guard seen.insert(url.sha256).inserted else { return false }
                    let active = try db.cached(
                        """
                        SELECT 1 FROM jobs WHERE path_key = ?1 AND state NOT IN ('done','failed')
                        """)
                    active.bind(1, blob: Array("url:\(url.sha256)".utf8))
                    return try !active.step()
                }
            }
        }
    }

    private func insertURLs(_ urls: [URLInput], source: String, db: Database) throws -> [EnqueueResult] {
        let now = Timestamp.nowMillis()
        let nowText = Timestamp.iso8601(millis: now)
        return try urls.map { url in
            // The key is a hash of the URL: unique per URL, and no password in a column that tools index.
            let key = Array("url:\(url.sha256)".utf8)
            let active = try db.cached(
                """
                SELECT id FROM jobs WHERE path_key = ?1 AND state NOT IN ('done','failed')
                """)
            active.bind(1, blob: key)
            if try active.step() { return .known(active.int64(0)) }
            let insert = try db.cached(
                """
                INSERT INTO jobs (path, path_key, state, kind, url, job_key, next_attempt_at, created_at, updated_at, source)
                VALUES (?1, ?2, 'queued', 'url', ?3, ?4, ?5, ?6, ?6, ?7)
                """)
            insert.bind(1, url.redacted).bind(2, blob: key).bind(3, url.text).bind(4, JobKey.make()).bind(5, now)
                .bind(6, nowText).bind(7, source)
            try insert.run()
            return .inserted(db.lastInsertRowID)
        }
    }
}
