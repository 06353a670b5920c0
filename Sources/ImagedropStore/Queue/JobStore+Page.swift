import ImagedropSupport
import ImagedropSystem

/// The reads only the status page needs. Every one is bounded by its LIMIT; a search is a bound parameter, never
/// part of the SQL text.
extension JobStore {
    /// One page of a list the status page shows, newest first; `hasMore` says whether a next page exists.
    package struct PageOfJobs: Sendable, Equatable {
        package var jobs: [Job]
        package var hasMore: Bool
    }

    /// Done jobs by `uploaded_at`, newest first (served by the `jobs_uploaded` index), skipping `offset`; with
    /// `pathContaining`, only those whose path holds the text (ASCII letters in any case, as SQLite's LIKE
    /// compares them). A search reads rows until it has a page of matches: on a large table a rare text costs a
    /// scan, one at a time on the endpoint's database lane.
    package func uploads(limit: Int, offset: Int, pathContaining search: String?) throws -> PageOfJobs {
        try page(
            where: "uploaded_at IS NOT NULL AND state = 'done'", order: "uploaded_at DESC, id DESC",
            limit: limit, offset: offset, search: search)
    }

    /// Failed jobs not dismissed, most recently failed first (as `status` lists them), skipping `offset`.
    package func failures(limit: Int, offset: Int, pathContaining search: String?) throws -> PageOfJobs {
        try page(
            where: "state = 'failed'" + (hasDismissed ? " AND dismissed = 0" : ""), order: "updated_at DESC, id DESC",
            limit: limit, offset: offset, search: search)
    }

    /// One row more than asked is read, only to learn whether there is a next page.
    private func page(
        where condition: String, order: String, limit: Int, offset: Int, search: String?
    ) throws -> PageOfJobs {
        try withDatabase { db in
            let filter = search == nil ? "" : " AND path LIKE ?3 ESCAPE '\\'"
            let statement = try db.cached(
                "SELECT \(columns) FROM jobs WHERE \(condition)\(filter) ORDER BY \(order) LIMIT ?1 OFFSET ?2")
            statement.bind(1, max(limit, 0) + 1)
            statement.bind(2, max(offset, 0))
            if let search { statement.bind(3, Self.likePattern(containing: search)) }
            var jobs: [Job] = []
            while try statement.step() { jobs.append(Self.job(from: statement)) }
            let hasMore = jobs.count > max(limit, 0)
            return PageOfJobs(jobs: Array(jobs.prefix(max(limit, 0))), hasMore: hasMore)
        }
    }

    /// A LIKE pattern matching any text that contains `text` literally: its `%`, `_` and the escape character
    /// itself lose their meaning (`ESCAPE '\'` in the statement).
    package static func likePattern(containing text: String) -> String {
        var pattern = "%"
        for character in text.unicodeScalars {
            if character == "%" || character == "_" || character == "\\" { pattern.unicodeScalars.append("\\") }
            pattern.unicodeScalars.append(character)
        }
        return pattern + "%"
    }

    /// Uploads per UTC minute ("YYYY-MM-DDTHH:MM") since `sinceMillis`.
    package func uploadsPerMinute(sinceMillis: Int64) throws -> [String: Int] {
        try withDatabase { db in
            let statement = try db.cached(
                """
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
