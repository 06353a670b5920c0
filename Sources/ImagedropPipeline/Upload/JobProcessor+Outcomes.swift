import ImagedropParsing
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import Logging

/// Writing an attempt's outcome back: done, failed, retrying, or back in the queue.
extension JobProcessor {
    /// Records the job done. Written behind (`WriteBehind`: the worker goes on to its next request while the
    /// writer gathers the next dozen write-backs into one transaction) unless something on this thread must
    /// follow the committed row: the after-upload action (it acts on the row's file), the fleet's content index
    /// (`sendUnlessStoredInFleet` reads the row back), or no writer running (a processor driven alone). Either
    /// way the job leaves `inFlight` only once its row is written: the lease sweep leaves it alone until then.
    package func finish(_ attempt: Attempt, image: ImageRecord, countAttempt: Bool, alreadyStored: Bool = false) throws
    {
        let job = attempt.job
        // A URL job has no file to keep, delete or move.
        let action = job.kind == .url ? nil : AfterUploadActions.pendingAction(success: true, config: attempt.config)
        let write = JobStore.doneWrite(
            id: job.id, imageID: image.id, variants: image.variants ?? [], sha256: attempt.sha256,
            countAttempt: countAttempt, afterAction: action, version: attempt.version)
        // What the log line and a requeue need, and not the attempt itself: its open file and kept bytes are let go
        // now, not when the batch is written.
        let done = Done(
            job: job, imageID: image.id, attempt: job.attempts + (countAttempt ? 1 : 0), alreadyStored: alreadyStored,
            size: attempt.file?.status.size ?? job.size, sentAtNanos: attempt.sentAtNanos,
            settleMillis: attempt.config.watch.settleMillis)
        if action == nil, deps.fleetContent == nil {
            KillBeforeDoneHook.fire(for: job.path)
            let (deps, logger) = (deps, logger)
            let handed = deps.writeBehind.submit(write) { result in
                // Out first: once settled, a requeued job may be claimed again, and its id is the new claim's.
                deps.inFlight.remove(job.id)
                switch result {
                case .success(let recorded): done.settle(recorded: recorded, deps: deps, logger: logger)
                case .failure(let error):
                    // As for any write-back that fails: the job keeps its lease and comes back when it expires.
                    logger.error("could not record job state", metadata: ["job": "\(job.id)", "error": "\(error)"])
                }
            }
            if handed {
                leftToWriter = true
                return
            }
        }
        let recorded = try deps.store.grouped(write)
        done.settle(recorded: recorded, deps: deps, logger: logger)
        if recorded, action != nil, let row = try deps.store.job(id: job.id) {
            afterActions.run(row, config: attempt.config)
        }
    }

    /// A `done` write-back's aftermath, wherever it was written (this thread or the writer's).
    struct Done: Sendable {
        let job: Job
        let imageID: String
        let attempt: Int
        let alreadyStored: Bool
        let size: Int?
        let sentAtNanos: UInt64?
        let settleMillis: Int

        func settle(recorded: Bool, deps: Dependencies, logger: Logger) {
            guard recorded else {
                // The watcher saw a newer version while this one was uploading: that version goes next.
                JobProcessor.requeueChanged(job, settleMillis: settleMillis, deps: deps, logger: logger)
                return
            }
            deps.metrics.recordDone(alreadyStored: alreadyStored)
            if !alreadyStored { deps.quotaWatch.noteUpload() }
            var metadata: Logger.Metadata = [
                "job": "\(job.id)", "path": "\(job.path)", "status": "done", "image": "\(imageID)",
                "attempt": "\(attempt)",
            ]
            // Size in bytes and the time from sending to the recorded result (a 409's GET included): numbers, so
            // `jq 'select(.duration_ms > 5000)'` finds the slow ones.
            if let size { metadata["size"] = "\(size)" }
            if let sentAtNanos {
                metadata["duration_ms"] = "\((Timestamp.monotonicNanos() - sentAtNanos) / 1_000_000)"
            }
            logger.info(alreadyStored ? "already stored" : "uploaded", metadata: metadata)
        }
    }

    /// A local rejection: pre-flight (or the job itself) rules the file out and nothing is sent. Logged as
    /// `rejected`, not as an upload that failed: the API never saw it, and no attempt is counted.
    package func reject(_ job: Job, reason: String, sha256: String?, config: Config, version: JobStore.Version?) throws
    {
        try fail(
            job, reason: reason, code: nil, sha256: sha256, countAttempt: false, config: config, version: version,
            message: "rejected")
    }

    package func fail(
        _ job: Job, reason: String, code: Int?, sha256: String?, countAttempt: Bool, config: Config,
        version: JobStore.Version?, message: Logger.Message = "upload failed"
    ) throws {
        let reason = Self.shown(reason, for: job)
        let action = job.kind == .url ? nil : AfterUploadActions.pendingAction(success: false, config: config)
        let recorded = try deps.store.markFailed(
            id: job.id, error: reason, code: code, sha256: sha256,
            countAttempt: countAttempt, afterAction: action, version: version)
        guard recorded else {
            try deps.store.release(id: job.id, delayMillis: Int64(config.watch.settleMillis))
            return
        }
        deps.metrics.recordFailure(code: code)
        var metadata: Logger.Metadata = [
            "job": "\(job.id)", "path": "\(job.path)", "status": "failed", "reason": "\(reason)",
        ]
        if let code { metadata["cf_code"] = "\(code)" }
        logger.warning(message, metadata: metadata)
        if action != nil, let failed = try deps.store.job(id: job.id) { afterActions.run(failed, config: config) }
    }

    /// A transient failure: `retrying` after the policy's delay, or `failed` once `max_attempts` requests
    /// were made (the rule: `Outcome.retry`). A 429 makes the whole pool wait, not just this worker: the budget
    /// is the account's.
    package func retry(
        _ attempt: Attempt, reason: String, code: Int?, retryAfter: Int64?, rateLimited: Bool,
        countAttempt: Bool = true
    ) throws {
        let outcome = Outcome.retry(
            reason: Self.shown(reason, for: attempt.job), code: code, retryAfter: retryAfter,
            rateLimited: rateLimited, context: .init(attemptsBefore: attempt.job.attempts),
            policy: RetryPolicy(config: attempt.config.upload), countAttempt: countAttempt)
        try carryOut(outcome, attempt, countAttempt: countAttempt)
    }

    /// Writes a `.retry` or a given-up `.failed` back (other outcomes are not a retry's), with what the server
    /// said about waiting as the outcome carries it.
    package func carryOut(_ outcome: Outcome, _ attempt: Attempt, countAttempt: Bool) throws {
        let job = attempt.job
        let policy = RetryPolicy(config: attempt.config.upload)
        let retryAfter = outcome.hint?.retryAfterMillis
        let rateLimited = outcome.hint?.rateLimited ?? false
        if policy.capsHint(retryAfter), let retryAfter {
            // Once per reply: the server (or a proxy) asked for more than backoff_max_ms allows.
            logger.warning(
                "server's wait hint capped at backoff_max_ms",
                metadata: [
                    "job": "\(job.id)", "hint_ms": "\(retryAfter)", "backoff_max_ms": "\(policy.maxMillis)",
                ])
        }
        // Before the attempt count is judged: a 429 on the last attempt still stops the pool.
        if rateLimited { deps.budget.block(forMillis: policy.rateLimitBlockMillis(retryAfterMillis: retryAfter)) }
        switch outcome {
        case .failed(let reason, let code, gaveUp: true, _):
            // fail() scrubs the reason as it is stored and logged.
            try fail(
                job, reason: reason, code: code, sha256: nil, countAttempt: true, config: attempt.config,
                version: attempt.version)
        case .retry(let reason, let code, let delay, let rateLimited, _):
            let reason = Self.shown(reason, for: job)  // a URL job's reply may quote its URL's password
            deps.metrics.recordRetry(rateLimited: rateLimited)
            try deps.store.markRetrying(
                id: job.id, error: reason, code: code,
                nextAttemptAtMillis: Timestamp.nowMillis() + delay, countAttempt: countAttempt)
            let attemptsMade = job.attempts + (countAttempt ? 1 : 0)
            var metadata: Logger.Metadata = [
                "job": "\(job.id)", "path": "\(job.path)", "status": "retrying",
                "attempt": "\(attemptsMade)", "delay_ms": "\(delay)", "reason": "\(reason)",
            ]
            if let code { metadata["cf_code"] = "\(code)" }
            logger.notice("upload will be retried", metadata: metadata)
        default:
            preconditionFailure("not a retry's outcome: \(outcome)")
        }
    }

    /// The file changed under this attempt: queue the job again (no attempt counted) for its final version.
    package func requeueChanged(_ attempt: Attempt) {
        Self.requeueChanged(attempt.job, settleMillis: attempt.config.watch.settleMillis, deps: deps, logger: logger)
    }

    static func requeueChanged(_ job: Job, settleMillis: Int, deps: Dependencies, logger: Logger) {
        logger.notice(
            "file changed during upload; uploading its final version",
            metadata: ["job": "\(job.id)", "path": "\(job.path)"])
        do {
            try deps.store.release(id: job.id, delayMillis: Int64(settleMillis))
        } catch {
            logger.error("could not release job", metadata: ["job": "\(job.id)", "error": "\(error)"])
        }
    }

    /// A reason as it may be stored and logged: an API message about a URL job may quote its URL, and the
    /// URL's credential (password or token) must not reach the table or the log.
    package static func shown(_ reason: String, for job: Job) -> String {
        guard job.kind == .url, let url = job.urlInput else { return reason }
        return url.scrub(reason)
    }

    package func release(_ job: Job) {
        do { try deps.store.release(id: job.id) } catch {
            logger.error("could not release job", metadata: ["job": "\(job.id)", "error": "\(error)"])
        }
    }

    /// The whole queue stops for a reason that is not the job's: a refused token, or a full image quota.
    package func pauseQueue(_ reason: String, kind: PauseGate.Kind = .credentials) {
        // Another upload in flight when the quota filled up says the same again: the reason the prober may have
        // made more precise since (`N of N images stored`) stays, and nothing is logged twice.
        if kind == .quota, deps.pause.kind == .quota { return }
        let text = PauseNotice.text(reason, kind: kind)
        if deps.pause.pause(text, kind: kind) {
            PauseNotice.log(logger, reason: text, kind: kind, config: deps.config.current)
            try? deps.store.recordPause(text)
        }
    }

    package func record(_ reply: ImagesClient.Reply) {
        if let response = reply.response { deps.metrics.recordRequest(seconds: response.totalSeconds) }
    }
}

extension Job {
    /// The version the watcher recorded for this job, for an outcome decided before the file was opened.
    package var seenVersion: JobStore.Version? {
        size.flatMap { size in mtimeNanos.map { .init(size: size, mtimeNanos: $0) } }
    }
}
