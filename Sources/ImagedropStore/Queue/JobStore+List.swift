import ImagedropSystem

/// `imagedrop list`: jobs newest first, optionally of one state and changed since a moment.
extension JobStore {
    /// Dismissed failed jobs only with `includeDismissed` (`list --all`): the operator acknowledged them.
    package func list(
        state: JobState?, updatedSince: String?, limit: Int, source: String? = nil,
        includeDismissed: Bool = false
    ) throws -> [Job] {
        try withDatabase { db in
            var conditions: [String] = []
            if !includeDismissed, hasDismissed { conditions.append("NOT (state = 'failed' AND dismissed = 1)") }
            if state != nil { conditions.append("state = ?1") }
            if updatedSince != nil { conditions.append("updated_at >= ?2") }
            if source != nil { conditions.append(hasSource ? "source = ?4" : "?4 = 'default'") }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            let statement = try db.prepare("SELECT \(columns) FROM jobs \(filter) ORDER BY id DESC LIMIT ?3")
            if let state { statement.bind(1, state.rawValue) }
            if let updatedSince { statement.bind(2, updatedSince) }
            statement.bind(3, limit)
            if let source { statement.bind(4, source) }
            var jobs: [Job] = []
            while try statement.step() { jobs.append(Self.job(from: statement)) }
            return jobs
        }
    }

    /// Every job a run would take (queued, retrying, and uploading ones a stopped daemon left, which the next
    /// start queues again), oldest first: what `run --once --dry-run` lists before the files it would find.
    package func waitingJobs() throws -> [Job] {
        try withDatabase { db in
            let statement = try db.prepare(
                "SELECT \(columns) FROM jobs WHERE state NOT IN ('done','failed') ORDER BY id")
            var jobs: [Job] = []
            while try statement.step() { jobs.append(Self.job(from: statement)) }
            return jobs
        }
    }
}
