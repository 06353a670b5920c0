import ImagedropSystem

/// `imagedrop dismiss`: failed jobs the operator acknowledged. They keep `state = 'failed'` and their reason;
/// the `dismissed` flag takes them out of the failed counts (status, page, metrics) and the failure lists.
/// `retry` by id clears it again.
extension JobStore {
    /// The failed jobs not dismissed yet among `ids` (nil: all of them), dismissed in one transaction — or, for a
    /// dry run, the same selection read in one snapshot and left as it is. Returns them in id order.
    package func dismissFailed(ids: [Int64]?, dryRun: Bool = false) throws -> [Job] {
        let open = hasDismissed ? "AND dismissed = 0" : ""
        let columns = columns
        return try withDatabase { db in
            let decide = {
                let select =
                    ids == nil
                    ? try db.prepare("SELECT \(columns) FROM jobs WHERE state = 'failed' \(open) ORDER BY id")
                    : try db.prepare("SELECT \(columns) FROM jobs WHERE state = 'failed' \(open) AND id = ?1")
                var jobs: [Job] = []
                for id in (ids.map { Array(Set($0)).sorted() } ?? [0]) {
                    if ids != nil {
                        select.reset()
                        select.bind(1, id)
                    }
                    while try select.step() { jobs.append(Self.job(from: select)) }
                }
                guard !dryRun else { return jobs }
                // updated_at is left alone: a failure's age (what `prune --failed` goes by) is from when it failed.
                let update = try db.cached(
                    "UPDATE jobs SET dismissed = 1 WHERE id = ?1 AND state = 'failed' AND dismissed = 0")
                return try jobs.filter { job in
                    update.reset()
                    update.bind(1, job.id)
                    try update.run()
                    return db.changes > 0
                }
            }
            return try dryRun ? db.readTransaction(decide) : db.transaction(decide)
        }
    }

    /// Every job of a path, newest first (each version of the file has its own), looked up as `latestJob` does.
    package func jobs(path: RawPath) throws -> [Job] {
        try withDatabase { db in
            var jobs: [Job] = []
            let byKey = try db.cached("SELECT \(columns) FROM jobs WHERE path_key = ?1 ORDER BY id DESC")
            byKey.bind(1, blob: path.bytes)
            while try byKey.step() { jobs.append(Self.job(from: byKey)) }
            guard jobs.isEmpty else { return jobs }
            // Users type the displayed path; for names that are not UTF-8 that is the U+FFFD form.
            let byDisplay = try db.cached("SELECT \(columns) FROM jobs WHERE path = ?1 ORDER BY id DESC")
            byDisplay.bind(1, path.display)
            while try byDisplay.step() { jobs.append(Self.job(from: byDisplay)) }
            return jobs
        }
    }
}
