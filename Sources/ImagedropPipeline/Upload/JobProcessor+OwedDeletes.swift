import ImagedropStore
import ImagedropSupport
import Logging

/// Owed deletes (`owed_deletes`): sent by the workers before they claim the next job, with the retry policy
/// of uploads; every DELETE goes through the shared rate limiter like any other request.
extension JobProcessor {
    /// Sends one due owed delete, if there is one. True when it did (the worker then looks for more work).
    package func settleOwedDelete() -> Bool {
        let config = deps.config.current
        let claimed: OwedDelete?
        do {
            claimed = try deps.store.claimOwedDelete(leaseMillis: UploadWorkerPool.leaseMillis(config))
        } catch {
            return false  // the table cannot be read now; the job claim reports the problem
        }
        guard let owed = claimed else { return false }
        let now = Timestamp.nowMillis()
        guard let token = deps.tokens.token else {
            pauseQueue(deps.tokens.problem ?? "no API token")
            postpone(owed, error: nil, at: now, countAttempt: false)
            return true
        }
        let reply: ImagesClient.Reply
        do {
            reply = try watch(client.deleteImage(id: owed.imageID, token: token, admission: admission))
        } catch {
            postpone(owed, error: nil, at: now, countAttempt: false)  // stopping: the next start sends it
            return true
        }
        record(reply)
        let metadata: Logger.Metadata = [
            "image": "\(owed.imageID)", "job": "\(owed.jobID.map(String.init) ?? "-")",
            "reason": "\(owed.reason)",
        ]
        switch DeleteOutcome(reply) {
        case .gone:
            logger.notice("owed delete done", metadata: metadata)
            settle(owed)
        case .pause(let reason, let kind):
            pauseQueue(reason, kind: kind)
            postpone(owed, error: PauseNotice.text(reason, kind: kind), at: now, countAttempt: false)
        case .permanent(let reason, _):
            giveUp(owed, reason: reason, metadata: metadata)
        case .transient(let reason, _, let retryAfter, let limited):
            let policy = RetryPolicy(config: config.upload)
            if limited { deps.budget.block(forMillis: policy.rateLimitBlockMillis(retryAfterMillis: retryAfter)) }
            let attempts = owed.attempts + 1
            if policy.isExhausted(attemptsMade: attempts) {
                giveUp(owed, reason: "gave up after \(attempts) attempts: \(reason)", metadata: metadata)
                return true
            }
            let delay = policy.delayMillis(attemptsMade: attempts, retryAfterMillis: retryAfter, rateLimited: limited)
            var retrying = metadata
            retrying["attempt"] = "\(attempts)"
            retrying["delay_ms"] = "\(delay)"
            retrying["error"] = "\(reason)"
            logger.notice("owed delete will be retried", metadata: retrying)
            postpone(owed, error: reason, at: Timestamp.nowMillis() + delay, countAttempt: true)
        }
        return true
    }

    private func giveUp(_ owed: OwedDelete, reason: String, metadata: Logger.Metadata) {
        var failed = metadata
        failed["error"] = "\(reason)"
        logger.error("owed delete abandoned; delete the image by hand", metadata: failed)
        settle(owed)
    }

    private func settle(_ owed: OwedDelete) {
        do {
            try deps.store.settleOwedDelete(imageID: owed.imageID)
            deps.workSignal.notifyAll()  // the job that waited for it may be claimed now
        } catch {
            logger.error("could not record owed delete", metadata: ["image": "\(owed.imageID)", "error": "\(error)"])
        }
    }

    private func postpone(_ owed: OwedDelete, error: String?, at millis: Int64, countAttempt: Bool) {
        do {
            try deps.store.postponeOwedDelete(
                imageID: owed.imageID, error: error, nextAttemptAtMillis: millis,
                countAttempt: countAttempt)
        } catch {
            // The lease runs out on its own and the delete comes back then.
            logger.error("could not record owed delete", metadata: ["image": "\(owed.imageID)", "error": "\(error)"])
        }
    }
}
