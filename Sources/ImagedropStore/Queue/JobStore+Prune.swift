import ImagedropSystem

/// `imagedrop prune`: history removed to keep the table small. The dry run counts with the very condition the
/// delete uses, so `--dry-run` and the real run never disagree.
extension JobStore {
    /// What `prune` removes: done jobs (the default) or, with `--failed`, failed ones.
    package enum PruneTarget: Sendable {
        /// Uploaded before the cutoff.
        case done
        /// Failed (dismissed or not) and unchanged since before the cutoff.
        case failed

        /// A job whose after-upload action is still owed (a move to failed_dir/done_dir not yet confirmed)
        /// is kept: the replay after a crash needs its row.
        package var condition: String {
            switch self {
            case .done: "state = 'done' AND uploaded_at < ?1 AND after_action IS NULL"
            case .failed: "state = 'failed' AND updated_at < ?1 AND after_action IS NULL"
            }
        }
    }

    /// How many jobs `prune(_:before:)` would delete now (`prune --dry-run`).
    package func prunable(_ target: PruneTarget, before cutoff: String) throws -> Int {
        try withDatabase { db in
            let statement = try db.prepare("SELECT count(*) FROM jobs WHERE \(target.condition)")
            statement.bind(1, cutoff)
            return try statement.step() ? statement.int(0) : 0
        }
    }

    package func prunable(doneBefore cutoff: String) throws -> Int { try prunable(.done, before: cutoff) }

    /// Deletes the jobs and returns how many were removed. Each removed version of a done file is kept as one
    /// row of `stored_versions` (path, size, mtime, sha256, image id), which the idempotent insert consults: a
    /// file still in the drop folder is not new after its history is pruned. A failed version leaves no such
    /// row (nothing of it is stored): a file still there unchanged is found again by the next scan and tried
    /// once more — docs/behaviour.md (Prune) says to move such files away, or to dismiss rather than prune them.
    package func prune(_ target: PruneTarget, before cutoff: String) throws -> Int {
        try withDatabase { db in
            try db.transaction {
                if target == .done {
                    let keep = try db.prepare(
                        """
                        INSERT OR IGNORE INTO stored_versions (path_key, size, mtime_ns, sha256, image_id, uploaded_at)
                        SELECT path_key, size, mtime_ns, sha256, image_id, uploaded_at FROM jobs
                        WHERE \(target.condition) AND size IS NOT NULL AND mtime_ns IS NOT NULL
                        """)
                    keep.bind(1, cutoff)
                    try keep.run()
                }
                let statement = try db.prepare("DELETE FROM jobs WHERE \(target.condition)")
                statement.bind(1, cutoff)
                try statement.run()
                return db.changes
            }
        }
    }

    package func prune(doneBefore cutoff: String) throws -> Int { try prune(.done, before: cutoff) }
}
