import ImagedropSupport
import ImagedropSystem

/// `imagedrop retry` and the status page's retry buttons.
extension JobStore {
    /// What `retry` did (or, for a dry run, would do): the jobs queued again, and those left as they were and why.
    package struct RetryResult: Sendable, Equatable {
        package var queued: [Int64] = []
        /// A newer job of the same file exists (waiting, done or failed): that job carries the file now, and the
        /// old version's bytes are no longer there to upload.
        package var superseded: [Int64] = []
        /// The file is gone (moved to failed_dir or done_dir, deleted): queued again it could only fail as
        /// "file vanished".
        package var gone: [Int64] = []

        package init() {}
    }

    /// Failed jobs back to the queue with their attempt count reset; with `includeDone` (`retry --force`) done
    /// ones too, to upload again (a content-hash or path id then meets a 409 and the GET refreshes the variants;
    /// a Cloudflare-chosen id finds its earlier upload by the job key).
    /// Only the newest job of a file is queued again: an older version re-queued would upload whatever the
    /// file holds now under the old job (soak seed 23917: a retried "not an image" job adopted a later
    /// rewrite, and the newest job lost its file to it). `fileIsGone` is asked for file jobs (the CLI and the
    /// status page pass a stat; the table alone cannot know).
    /// `ids: nil` is every failed job `status` counts: dismissed ones are queued again only when named by id
    /// (which clears the flag). `dryRun` decides each job exactly as the real run does and changes nothing: a
    /// job queued again never changes the verdict on another (a job it could supersede has a smaller id, and so
    /// was superseded by it already), so leaving out the updates leaves every verdict as it is.
    package func retryFailed(
        ids: [Int64]?, includeDone: Bool = false, dryRun: Bool = false,
        fileIsGone: (Job) -> Bool = { _ in false }
    ) throws -> RetryResult {
        let now = Timestamp.nowMillis()
        let states = includeDone ? "('failed','done')" : "('failed')"
        let openOnly = ids == nil && hasDismissed ? "AND dismissed = 0" : ""
        let targets: [Job] = try withDatabase { db in
            let select =
                ids == nil
                ? try db.prepare("SELECT \(columns) FROM jobs WHERE state IN \(states) \(openOnly) ORDER BY id")
                : try db.prepare("SELECT \(columns) FROM jobs WHERE state IN \(states) AND id = ?1")
            var targets: [Job] = []
            for id in ids ?? [0] {
                if ids != nil {
                    select.reset()
                    select.bind(1, id)
                }
                while try select.step() { targets.append(Self.job(from: select)) }
            }
            return targets
        }
        // The file system is asked outside the connection's lock (thousands of failed jobs mean thousands of
        // stats); the update below re-checks each job's state, so one that changed meanwhile is left alone.
        let gone = Set(targets.filter { $0.kind == .file && fileIsGone($0) }.map(\.id))
        let clearDismissed = hasDismissed ? ", dismissed = 0" : ""
        return try withDatabase { db in
            let decide = {
                var result = RetryResult()
                // A newer job of the same file, or one of its versions already waiting.
                let superseding = try db.cached(
                    """
                    SELECT 1 FROM jobs other JOIN jobs this ON other.path_key = this.path_key
                    WHERE this.id = ?1 AND other.id != this.id
                      AND (other.id > this.id OR other.state NOT IN ('done','failed'))
                    LIMIT 1
                    """)
                // The dry run's stand-in for the update's WHERE: the job is still in a state retry takes.
                let stillThere = try db.cached("SELECT 1 FROM jobs WHERE id = ?1 AND state IN \(states)")
                // Not prepared for a dry run: a read-only reader of an older table may lack columns it sets.
                let update =
                    dryRun
                    ? nil
                    : try db.cached(
                        """
                        UPDATE jobs SET state = 'queued', attempts = 0, last_error = NULL, last_code = NULL, interrupted = 0,
                               next_attempt_at = ?2, updated_at = ?3, after_action = NULL \(clearDismissed)
                        WHERE id = ?1 AND state IN \(states)
                        """)
                for job in targets {
                    superseding.reset()
                    superseding.bind(1, job.id)
                    if try superseding.step() {
                        result.superseded.append(job.id)
                        continue
                    }
                    if gone.contains(job.id) {
                        result.gone.append(job.id)
                        continue
                    }
                    guard let update else {
                        stillThere.reset()
                        stillThere.bind(1, job.id)
                        if try stillThere.step() { result.queued.append(job.id) }
                        continue
                    }
                    update.reset()
                    update.bind(1, job.id).bind(2, now).bind(3, Timestamp.iso8601(millis: now))
                    try update.run()
                    if db.changes > 0 { result.queued.append(job.id) }
                }
                return result
            }
            return try dryRun ? db.readTransaction(decide) : db.transaction(decide)
        }
    }
}
