import ImagedropSystem

/// Jobs per source: the trigger-kept `source_counts`, so `status`, the metrics and the status page cost the
/// same at any table size.
extension JobStore {
    package func sourceCounts() throws -> [String: [JobState: Int]] {
        try withDatabase { db in try sourceCounts(db) }
    }

    package func sourceCounts(_ db: Database) throws -> [String: [JobState: Int]] {
        var result: [String: [JobState: Int]] = [:]
        guard hasSource else {
            // A table from before sources (read by a newer `status`): every job is the default source's.
            let statement = try db.cached("SELECT state, n FROM job_counts")
            while try statement.step() {
                if let state = JobState(rawValue: statement.string(0) ?? "") {
                    result[SourceSettings.defaultName, default: [:]][state] = statement.int(1)
                }
            }
            return result
        }
        let statement = try db.cached("SELECT source, state, n FROM source_counts WHERE n > 0")
        while try statement.step() {
            guard let state = JobState(rawValue: statement.string(1) ?? "") else { continue }
            result[statement.string(0) ?? SourceSettings.defaultName, default: [:]][state] = statement.int(2)
        }
        // Dismissed failed jobs are out of the failed counts, per source as in total.
        for (source, dismissed) in try dismissedCounts(db) {
            result[source, default: [:]][.failed, default: 0] -= dismissed
        }
        return result
    }
}

/// Per-source counts as `status`, the status page and the metrics show them: every configured source (zero
/// counts included) and every source the table holds jobs of, configured or not.
package struct SourceCounts: Sendable, Equatable {
    package var counts: [String: [JobState: Int]]
    /// The sources the config names (nil: not known, e.g. a report read without a config).
    package var configured: [String]?

    package init(counts: [String: [JobState: Int]], configured: [String]?) {
        self.counts = counts
        self.configured = configured
    }

    /// Configured sources in config order, then the others by name.
    package var names: [String] {
        let configured = self.configured ?? []
        let others = counts.keys.filter { !configured.contains($0) }.sorted()
        let names = configured + others
        return names.isEmpty ? [SourceSettings.defaultName] : names
    }

    package func count(_ source: String, _ state: JobState) -> Int { counts[source]?[state] ?? 0 }
    package func total(_ source: String) -> Int { counts[source]?.values.reduce(0, +) ?? 0 }
    package func waiting(_ source: String) -> Int {
        count(source, .queued) + count(source, .uploading) + count(source, .retrying)
    }

    /// Sources with jobs in the table that the config does not name: their waiting jobs are not uploaded.
    package var unconfigured: [String] {
        guard let configured else { return [] }
        return counts.keys.filter { !configured.contains($0) && total($0) > 0 }.sorted()
    }

    package var jsonObject: [String: Any] {
        var object: [String: Any] = [:]
        for name in names {
            var counts: [String: Any] = [:]
            for state in JobState.allCases { counts[state.rawValue] = count(name, state) }
            counts["total"] = total(name)
            object[name] = counts
        }
        return object
    }

    /// `source "x": 3 queued, …` — one line per source, and why a source's jobs wait when it is not configured.
    package func line(_ name: String) -> String {
        let counts = JobState.allCases.map { "\(count(name, $0)) \($0.rawValue)" }.joined(separator: ", ")
        var line = "source \"\(name)\": \(counts) (\(total(name)) total)"
        if unconfigured.contains(name) {
            line +=
                waiting(name) > 0
                ? " — not configured: its \(waiting(name)) waiting jobs are not uploaded until it is configured again"
                : " — not configured"
        }
        return line
    }

    /// The daemon's status line and log: only what needs attention.
    package var waitingUnconfiguredText: String? {
        let parts = unconfigured.filter { waiting($0) > 0 }
            .map { "source \"\($0)\": \(waiting($0)) queued, not configured — not uploaded" }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }
}
