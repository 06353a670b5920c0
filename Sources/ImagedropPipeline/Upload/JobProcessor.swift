import ImagedropParsing
import ImagedropSystem
import ImagedropStore
import Glibc
import ImagedropSupport
import Logging

/// Carries one claimed job to its next state: pre-flight, upload, classify the reply, write back.
/// One per worker thread (it owns that worker's ImagesClient and so its kept-alive connection).
package final class JobProcessor {
    package let deps: Dependencies
    package var client: ImagesClient
    private var clientEndpoint: ImagesClient.Endpoint
    package let afterActions: AfterUploadActions
    package let heartbeat: Heartbeat
    package var logger: Logger

    /// `heartbeat` is the thread's own (the watchdog's roll call names it); `loggedAs` is its `worker` field in
    /// log lines.
    package init(_ deps: Dependencies, heartbeat: Heartbeat, loggedAs: String) {
        self.deps = deps
        let config = deps.config.current
        self.heartbeat = heartbeat
        self.client = deps.makeClient(config, heartbeat: heartbeat)
        self.clientEndpoint = deps.endpoint(config)
        self.afterActions = AfterUploadActions(store: deps.store, logger: deps.logger)
        self.logger = deps.logger
        self.logger[metadataKey: "worker"] = "\(loggedAs)"
    }

    /// What one attempt works with: the claimed row, the config in force, and the file as pre-flight opened it
    /// (nil for a URL job: Cloudflare fetches the image, so there is no file, hash or version here).
    package struct Attempt {
        package var job: Job
        package var config: Config
        package var file: InspectedFile?
        package var token: APIToken
        /// When the upload request went out (after any wait for budget): the upload line's `duration_ms`.
        package var sentAtNanos: UInt64?
        package var sha256: String? { file?.sha256 }
        package var version: JobStore.Version? { file.map { .init(size: $0.status.size, mtimeNanos: $0.status.mtimeNanos) } }
    }

    /// A file job pre-flight is through with: opened, hashed and probed, its version recorded, its form
    /// planned. What is left is the request (and, for a Cloudflare-chosen id, the look for an earlier upload).
    package struct PreparedUpload {
        package var attempt: Attempt
        package var plan: UploadPlan
        package var file: InspectedFile
    }

    /// Where pre-flight left a claimed job.
    package enum Preparation {
        /// Its next state is written (rejected, looked at again later, a URL list queued, released).
        case settled
        case upload(PreparedUpload)
        /// A URL job: there is nothing to prepare, its request is all of it.
        case url(Job, Config, APIToken)
    }

    /// Carries a job this worker claimed from pre-flight to its next state.
    package func process(_ job: Job) {
        guard let config = configFor(job) else { return }
        deps.inFlight.insert(job.id)
        defer { deps.inFlight.remove(job.id) }
        carry(job) {
            switch try prepare(job, config: config) {
            case .settled: break
            case .url(let job, let config, let token): try runURL(job, config: config, token: token)
            case .upload(let prepared): try upload(prepared)
            }
        }
    }

    /// The job's own source's config (ids, metadata, signed URLs, pre-flight, after-upload actions). A source
    /// removed by a reload since the claim: the job waits for it, untouched.
    func configFor(_ job: Job) -> Config? {
        guard let config = deps.config.current.scoped(to: job.source) else {
            logger.notice("job's source is not configured; left queued until it returns",
                          metadata: ["job": "\(job.id)", "source": "\(job.source)"])
            release(job)
            return nil
        }
        useEndpoint(of: config)
        return config
    }

    func useEndpoint(of config: Config) {
        let endpoint = deps.endpoint(config)
        if endpoint != clientEndpoint {
            client = deps.makeClient(config, heartbeat: heartbeat)   // reload changed the API root or timeout
            clientEndpoint = endpoint
        }
    }

    func carry(_ job: Job, _ body: () throws -> Void) {
        do {
            try body()
        } catch is ImagesClient.Stopped {
            release(job)
        } catch {
            // The table could not be written (disk full, I/O error). The job keeps its lease and comes back
            // when the lease expires; nothing is lost, nothing is marked done that was not.
            logger.error("could not record job state", metadata: ["job": "\(job.id)", "error": "\(error)"])
            sleepMillis(1000)
        }
    }

    /// Everything before the request: the token, the open-writer check, the file opened, hashed and probed,
    /// a new version recorded, the plan made. No request is sent here.
    func prepare(_ job: Job, config: Config) throws -> Preparation {
        guard let token = tokenOrPause(job) else { return .settled }
        if job.kind == .url { return .url(job, config, token) }
        if deps.openWrites.isOpen(job.path, now: Timestamp.monotonicNanos()) {
            // Its writer has only paused (the watcher saw writes and no close yet): a snapshot now would be a
            // torn file. Its IN_CLOSE_WRITE brings the final version to this same waiting job.
            logger.debug("file still open for writing; will look again", metadata: ["job": "\(job.id)", "path": "\(job.path)"])
            try lookAgainLater(job, config: config)
            return .settled
        }
        if URLList.isListName(job.path.baseName) {
            try runURLList(job, config: config)
            return .settled
        }
        PreflightCrashHook.fire(for: job.path)
        let file: InspectedFile
        switch FileInspector.inspect(path: job.path, root: job.root, followSymlinksOutside: config.watch.followSymlinksOutside) {
        case .rejected(let reason):
            try reject(job, reason: reason, sha256: nil, config: config, version: job.seenVersion)
            return .settled
        case .unavailable(let reason):
            try retryLocally(job, reason: reason, config: config)
            return .settled
        case .changing:
            logger.debug("file still changing; will look again", metadata: ["job": "\(job.id)", "path": "\(job.path)"])
            try lookAgainLater(job, config: config)
            return .settled
        case .ready(let ready):
            file = ready
        }
        let attempt = Attempt(job: job, config: config, file: file, token: token)
        if file.status.size != job.size || file.status.mtimeNanos != job.mtimeNanos {
            guard try deps.store.updateVersion(id: job.id, seenSize: job.size, seenMtimeNanos: job.mtimeNanos,
                                                   size: file.status.size, mtimeNanos: file.status.mtimeNanos,
                                                   sha256: file.sha256)
            else {
                requeueChanged(attempt)   // the watcher recorded a newer version meanwhile: that one goes next
                return .settled
            }
        }
        switch UploadPlan.make(job: job, file: .init(sha256: file.sha256), settings: .init(config)) {
        case .fail(let reason):
            try reject(job, reason: reason, sha256: file.sha256, config: config, version: attempt.version)
            return .settled
        case .upload(let plan):
            return .upload(PreparedUpload(attempt: attempt, plan: plan, file: file))
        }
    }

    func upload(_ prepared: PreparedUpload) throws {
        var attempt = prepared.attempt
        // The token as it is now: a SIGHUP may have replaced it while the job waited, prepared.
        guard let token = tokenOrPause(attempt.job) else { return }
        attempt.token = token
        if prepared.plan.looksForEarlierUploadFirst, try foundEarlierUpload(attempt) { return }
        try send(prepared.plan.form(fileDescriptor: prepared.file.fileDescriptor, size: prepared.file.status.size),
                 attempt: attempt, customID: prepared.plan.customID)
    }

    /// The API token in force, or nil with the queue paused for its lack and `job` back in the queue.
    func tokenOrPause(_ job: Job) -> APIToken? {
        if let token = deps.tokens.token { return token }
        pauseQueue(deps.tokens.problem ?? "no API token")
        release(job)
        return nil
    }

    /// Sends the upload and carries the reply to the job's next state; shared by file and URL jobs.
    package func send(_ form: MultipartForm, attempt: Attempt, customID: String?) throws {
        var attempt = attempt
        let job = attempt.job
        let config = attempt.config
        let token = attempt.token
        guard deps.concurrency.acquire(shouldStop: { [heartbeat, deps] in heartbeat.beat(.waitingForBudget); return deps.shutdown.isStopping }) else { throw ImagesClient.Stopped() }
        let reply: ImagesClient.Reply
        do {
            if customID == nil { try deps.store.recordSend(id: job.id) }
            attempt.sentAtNanos = Timestamp.monotonicNanos()
            reply = try upload(form, token: token, config: config)
        } catch {
            deps.concurrency.release(rttSeconds: nil, signal: .neutral)
            throw error
        }
        deps.concurrency.release(rttSeconds: reply.response?.totalSeconds, signal: reply.concurrencySignal)
        record(reply)

        let outcome = Outcome.decide(reply, context: .init(attemptsBefore: job.attempts, aborting: deps.shutdown.isAborting),
                                     policy: RetryPolicy(config: config.upload))
        if outcome == .release {
            release(job)   // cut short by the end of the grace period, not by the API
            return
        }
        // Bytes read through the descriptor changed under the upload: what was sent may mix two versions.
        let sentMixedBytes = attempt.file.map(descriptorChanged) ?? false
        if sentMixedBytes, case .transient = reply.classification {
            requeueChanged(attempt)
            return
        }
        switch outcome {
        case .done(let image):
            if sentMixedBytes {
                // Owed before the job goes back to the queue; a worker sends it, and the job waits for it.
                try deps.store.oweDelete(imageID: image.id, jobID: job.id, reason: "upload sent mixed bytes")
                requeueChanged(attempt)
                deps.workSignal.notifyAll()
                return
            }
            deps.metrics.recordUpload(bytes: attempt.file?.status.size ?? 0, at: Timestamp.monotonicNanos(),
                                          source: job.source)
            try finish(attempt, image: image, countAttempt: true)
        case .confirmExisting:
            try confirmExisting(attempt, id: customID)
        case .retry, .failed(_, _, gaveUp: true):
            var hint: Int64?
            var limited = false
            if case .transient(_, _, let retryAfter, let rateLimited) = reply.classification { (hint, limited) = (retryAfter, rateLimited) }
            try carryOut(outcome, attempt, retryAfter: hint, rateLimited: limited, countAttempt: true)
        case .pause(let reason, let kind):
            pauseQueue(reason, kind: kind)
            release(job)
        case .failed(let reason, let code, gaveUp: false):
            try fail(job, reason: reason, code: code, sha256: attempt.sha256, countAttempt: true, config: config,
                     version: attempt.version)
        case .release:
            release(job)
        }
    }

    /// The file is still being written: back to the queue for a settle period (at least half a second, so a
    /// file that keeps changing costs a claim twice a second, not a busy loop), with no attempt counted.
    package func lookAgainLater(_ job: Job, config: Config) throws {
        try deps.store.release(id: job.id, delayMillis: Int64(max(config.watch.settleMillis, 500)))
    }

    /// A local condition that passes (FileInspector.isPassing: out of descriptors, an I/O error, …): `retrying`
    /// after the policy's delay, with no attempt counted (no request was made) — so it can never fail the job.
    package func retryLocally(_ job: Job, reason: String, config: Config) throws {
        let delay = RetryPolicy(config: config.upload).delayMillis(attemptsMade: job.attempts + 1, retryAfterMillis: nil,
                                                                   rateLimited: false)
        try deps.store.markRetrying(id: job.id, error: reason, code: nil,
                                        nextAttemptAtMillis: Timestamp.nowMillis() + delay, countAttempt: false)
        logger.warning("cannot read the file for now; will try again", metadata: [
            "job": "\(job.id)", "path": "\(job.path)", "reason": "\(reason)", "retry_in_ms": "\(delay)",
        ])
    }

    private func upload(_ form: MultipartForm, token: APIToken, config: Config) throws -> ImagesClient.Reply {
        guard config.cloudflare.batchAPI else { return try client.upload(form, token: token) }
        let (batchToken, failure) = try deps.batchTokens.token(client: client, apiToken: token)
        guard let batchToken else { return failure! }
        guard deps.batchTokens.limiter.acquire(shouldStop: { [heartbeat, deps] in heartbeat.beat(.waitingForBudget); return deps.shutdown.isStopping }) else {
            throw ImagesClient.Stopped()
        }
        let target = ImagesClient.UploadTarget(url: "\(config.cloudflare.batchBaseURL)/images/v1", token: batchToken,
                                               countsAgainstGlobalBudget: false)
        let reply = try client.upload(form, token: token, target: target)
        if case .credentials = reply.classification {
            // An expired or revoked batch token is not a refused API token: fetch a new one and try again soon.
            deps.batchTokens.invalidate()
            return .init(classification: .transient(reason: "batch token refused; refreshing it", code: nil,
                                                    retryAfterMillis: 0, rateLimited: false),
                         response: reply.response, image: nil)
        }
        return reply
    }

    /// The open descriptor no longer shows the version that was hashed: the file was rewritten in place
    /// while it was read for the upload. (A path replaced by rename leaves the descriptor's inode intact:
    /// the upload is then a faithful copy of the version the job had, and the new file is its own job.)
    private func descriptorChanged(_ file: InspectedFile) -> Bool {
        guard case .success(let now) = FileStatus.of(fileDescriptor: file.fileDescriptor) else { return true }
        return !now.sameVersion(as: file.status)
    }
}

@available(*, unavailable)
extension JobProcessor: Sendable {}

package func sleepMillis(_ millis: Int) {
    var request = timespec(tv_sec: millis / 1000, tv_nsec: (millis % 1000) * 1_000_000)
    nanosleep(&request, nil)
}
