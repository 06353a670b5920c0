import ImagedropSystem
import ImagedropSupport

/// The two reads only the status page needs, both served by the `jobs_uploaded` index.
extension JobStore {
    /// The newest uploads, newest first.
    public func recentUploads(limit: Int) throws -> [Job] {
        try withDatabase { db in
            let statement = try db.cached("""
                SELECT \(columns) FROM jobs WHERE uploaded_at IS NOT NULL AND state = 'done'
                ORDER BY uploaded_at DESC, id DESC LIMIT ?1
                """)
            statement.bind(1, limit)
            var jobs: [Job] = []
            while try statement.step() { jobs.append(Self.job(from: statement)) }
            return jobs
        }
    }

    /// Uploads per UTC minute ("YYYY-MM-DDTHH:MM") since `sinceMillis`.
    public func uploadsPerMinute(sinceMillis: Int64) throws -> [String: Int] {
        try withDatabase { db in
            let statement = try db.cached("""
                SELECT substr(uploaded_at, 1, 16), count(*) FROM jobs WHERE uploaded_at IS NOT NULL AND uploaded_at >= ?1
                GROUP BY 1
                """)
            statement.bind(1, Timestamp.iso8601(millis: sinceMillis))
            var minutes: [String: Int] = [:]
            while try statement.step() { minutes[statement.string(0) ?? ""] = statement.int(1) }
            return minutes
        }
    }
}
