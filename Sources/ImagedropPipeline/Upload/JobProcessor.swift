import Glibc
import ImagedropParsing
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import Logging

/// Carries one claimed job to its next state: pre-flight, upload, classify the reply, write back.
/// One per worker thread (it owns that worker's ImagesClient and so its kept-alive connection).
package final class JobProcessor {
    package let deps: Dependencies
    package var client: ImagesClient
    private var clientEndpoint: ImagesClient.Endpoint
    /// Passed with every request of `client`: the budget wait, beating this thread's heartbeat, and the stop.
    package let admission: RequestAdmission
    package let afterActions: AfterUploadActions
    package let heartbeat: Heartbeat
    package var logger: Logger
    /// Set by `finish` when the job's write-back went to the writer, which takes the job out of `inFlight` once
    /// written: `onPath` must not take it out first.
    var leftToWriter = false

    /// `heartbeat` is the thread's own (the watchdog's roll call names it); `loggedAs` is its `worker` field in
    /// log lines.
    package init(_ deps: Dependencies, heartbeat: Heartbeat, loggedAs: String) {
        self.deps = deps
        let config = deps.config.current
        self.heartbeat = heartbeat
        self.client = deps.makeClient(config)
        self.admission = deps.admission(heartbeat: heartbeat)
        self.clientEndpoint = deps.endpoint(config)
        self.afterActions = AfterUploadActions(store: deps.store, logger: deps.logger)
        self.logger = deps.logger
        self.logger[metadataKey: "worker"] = "\(loggedAs)"
    }

    /// A claimed job once pre-flight is through with it: the one type that says where a job stands between
    /// pre-flight and its write-back. The preparer hands it to a worker as it is (`PreparedUploads`).
    package struct Attempt {
        package var job: Job
        package var config: Config
        /// The file as pre-flight opened it; nil for a URL job (Cloudflare fetches the image: there is no file,
        /// hash or version here).
        package var file: InspectedFile?
        /// The file's request, planned; nil for a URL job, whose form is made from its URL as it is sent.
        package var plan: UploadPlan?
        /// When the upload request went out (after any wait for budget): the upload line's `duration_ms`.
        package var sentAtNanos: UInt64?

        package init(job: Job, config: Config, file: InspectedFile? = nil, plan: UploadPlan? = nil) {
            self.job = job
            self.config = config
            self.file = file
            self.plan = plan
        }

        package var sha256: String? { file?.sha256 }
        package var version: JobStore.Version? {
            file.map { .init(size: $0.status.size, mtimeNanos: $0.status.mtimeNanos) }
        }
    }

    /// Where pre-flight left a claimed job.
    package enum Preflight {
        /// Its request is all that is left.
        case prepared(Attempt)
        /// Its next state is written (rejected, looked at again later, a URL list queued, released).
        case settled
    }

    // MARK: - The entry points (one path: see JobPath)

    /// A worker's own claim: every step on this thread.
    package func process(_ job: Job) {
        onPath(job, preparedUnder: nil) { config in
            if case .prepared(let attempt) = try preflight(job, config: config) { try send(attempt) }
            return false
        }
    }

    /// The preparer's claim: pre-flight only, the request left to whichever worker takes it. Nil when the job's
    /// next state is already written; the job stays in `inFlight` only when it is returned.
    package func prepareAhead(_ job: Job) -> Attempt? {
        var ready: Attempt?
        onPath(job, preparedUnder: nil) { config in
            if case .prepared(let attempt) = try preflight(job, config: config) { ready = attempt }
            return ready != nil
        }
        return ready
    }

    /// A worker taking what the preparer made ready: admitted again (a reload since sends the job back to the
    /// queue, to be prepared under the new config), then sent.
    package func send(prepared attempt: Attempt) {
        onPath(attempt.job, preparedUnder: attempt.config) { _ in
            try send(attempt)
            return false
        }
    }

    /// The one place a job enters and leaves the path: admission under the config in force, the `inFlight`
    /// bookkeeping, what a step throws. `steps` returns true when the job stays held (prepared, waiting for a
    /// worker) once it returns.
    private func onPath(_ job: Job, preparedUnder: Config?, _ steps: (Config) throws -> Bool) {
        let config: Config
        switch JobPath.admit(current: deps.config.current.scoped(to: job.source), preparedUnder: preparedUnder) {
        case .release(let held):
            if held == .sourceNotConfigured {
                logger.notice(
                    "job's source is not configured; left queued until it returns",
                    metadata: ["job": "\(job.id)", "source": "\(job.source)"])
            }
            release(job)
            deps.inFlight.remove(job.id)
            return
        case .run(let admitted):
            config = admitted
        }
        useEndpoint(of: config)
        deps.inFlight.insert(job.id)
        leftToWriter = false
        var held = false
        do {
            held = try steps(config)
        } catch is ImagesClient.Stopped {
            release(job)
        } catch {
            // The table could not be written (disk full, I/O error). The job keeps its lease and comes back
            // when the lease expires; nothing is lost, nothing is marked done that was not.
            logger.error("could not record job state", metadata: ["job": "\(job.id)", "error": "\(error)"])
            sleepMillis(1000)
        }
        if !held, !leftToWriter { deps.inFlight.remove(job.id) }
    }

    func useEndpoint(of config: Config) {
        let endpoint = deps.endpoint(config)
        if endpoint != clientEndpoint {
            client = deps.makeClient(config)  // reload changed the API root or timeout
            clientEndpoint = endpoint
        }
    }

    // MARK: - The steps

    /// Pre-flight: the open-writer check, the file opened, hashed and probed, a new version recorded, the plan
    /// made. No request is sent and no token read here: a URL job has nothing to prepare.
    func preflight(_ job: Job, config: Config) throws -> Preflight {
        if job.kind == .url { return .prepared(Attempt(job: job, config: config)) }
        if deps.openWrites.isOpen(job.path, now: Timestamp.monotonicNanos()) {
            // Its writer has only paused (the watcher saw writes and no close yet): a snapshot now would be a
            // torn file. Its IN_CLOSE_WRITE brings the final version to this same waiting job.
            logger.debug(
                "file still open for writing; will look again", metadata: ["job": "\(job.id)", "path": "\(job.path)"])
            try lookAgainLater(job, config: config)
            return .settled
        }
        if URLList.isListName(job.path.baseName) {
            try runURLList(job, config: config)
            return .settled
        }
        PreflightCrashHook.fire(for: job.path)
        let file: InspectedFile
        switch FileInspector.inspect(
            path: job.path, root: job.root, followSymlinksOutside: config.watch.followSymlinksOutside,
            hashingBelow: hashingBelow(job, config: config))
        {
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
        var attempt = Attempt(job: job, config: config, file: file)
        if file.status.size != job.size || file.status.mtimeNanos != job.mtimeNanos {
            guard
                try deps.store.updateVersion(
                    id: job.id, seenSize: job.size, seenMtimeNanos: job.mtimeNanos,
                    size: file.status.size, mtimeNanos: file.status.mtimeNanos,
                    sha256: file.sha256)
            else {
                requeueChanged(attempt)  // the watcher recorded a newer version meanwhile: that one goes next
                return .settled
            }
        }
        switch UploadPlan.make(job: job, file: .init(hashedOrPending: file.sha256), settings: .init(config)) {
        case .fail(let reason):
            try reject(job, reason: reason, sha256: file.sha256, config: config, version: attempt.version)
            return .settled
        case .upload(let plan):
            attempt.plan = plan
            return .prepared(attempt)
        }
    }

    /// Files from this size on are hashed as they are sent, not in pre-flight: read once instead of twice (the
    /// kernel's copies were 40 % of a large upload's CPU: docs/benchmarks.md). Smaller files keep the pre-flight
    /// hash: one read for 50 KB files measured no difference (their second read comes from warm pages).
    package static let hashAsSentFromBytes = 1 << 20

    /// The size from which pre-flight leaves the hash to the upload: never when something needs the hash before
    /// the request — the fleet's content index (another host may have stored these bytes), or the look for an
    /// earlier upload of a Cloudflare-chosen id (it compares the metadata's sha256).
    func hashingBelow(_ job: Job, config: Config) -> Int {
        let cloudflareChoosesID = config.images.requireSignedURLs || config.images.idMode == .cloudflare
        if deps.fleetContent != nil || (cloudflareChoosesID && job.sends > 0) { return .max }
        return Self.hashAsSentFromBytes
    }

    /// Send: the token as it is now (read here alone: a SIGHUP may have replaced it while the job waited,
    /// prepared), the look for an earlier upload where the plan asks for one, then the request.
    func send(_ attempt: Attempt) throws {
        guard let token = tokenOrPause(attempt.job) else { return }
        guard let plan = attempt.plan, let file = attempt.file else {
            try runURL(attempt, token: token)
            return
        }
        if plan.looksForEarlierUploadFirst, try foundEarlierUpload(attempt, token: token) { return }
        try sendUnlessStoredInFleet(attempt, plan: plan, file: file, token: token)
    }

    /// The API token in force, or nil with the queue paused for its lack and `job` back in the queue.
    func tokenOrPause(_ job: Job) -> APIToken? {
        if let token = deps.tokens.token { return token }
        pauseQueue(deps.tokens.problem ?? "no API token")
        release(job)
        return nil
    }

    /// The request, its reply decided (`Outcome.decide`) and written back (`JobPath.writeBack`); shared by file
    /// and URL jobs.
    package func request(_ form: MultipartForm, _ attempt: Attempt, token: APIToken, customID: String?) throws {
        var attempt = attempt
        let job = attempt.job
        let config = attempt.config
        guard
            deps.concurrency.acquire(shouldStop: { [heartbeat, deps] in
                heartbeat.beat(.waitingForBudget)
                return deps.shutdown.isStopping
            })
        else { throw ImagesClient.Stopped() }
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
        var customID = customID
        if let file = attempt.file, file.sha256 == nil, let sent = reply.response?.sentFileSHA256 {
            // Hashed as it was sent: from here on the job is that of these bytes (its id, the 409's check).
            file.sha256 = sent
            if case .upload(let plan) = UploadPlan.make(job: job, file: .init(sha256: sent), settings: .init(config)) {
                attempt.plan = plan
                customID = plan.customID
            }
        }
        let outcome = Outcome.decide(
            reply, context: .init(attemptsBefore: job.attempts, aborting: deps.shutdown.isAborting),
            policy: RetryPolicy(config: config.upload))
        // Cut short by the end of the grace period: nothing to look at, the job goes back.
        let sentMixedBytes = outcome != .release && (attempt.file.map(descriptorChanged) ?? false)
        try writeBack(
            JobPath.writeBack(outcome, sentMixedBytes: sentMixedBytes), attempt, token: token, customID: customID)
    }

    /// Does what `JobPath.writeBack` decided.
    private func writeBack(_ step: JobPath.WriteBack, _ attempt: Attempt, token: APIToken, customID: String?) throws {
        let job = attempt.job
        switch step {
        case .release:
            release(job)
        case .requeueChanged:
            requeueChanged(attempt)
        case .oweDeleteThenRequeue(let imageID):
            // Owed before the job goes back to the queue; a worker sends it, and the job waits for it.
            try deps.store.oweDelete(imageID: imageID, jobID: job.id, reason: "upload sent mixed bytes")
            requeueChanged(attempt)
            deps.workSignal.notifyAll()
        case .finish(let image):
            deps.metrics.recordUpload(
                bytes: attempt.file?.status.size ?? 0, at: Timestamp.monotonicNanos(), source: job.source)
            try finish(attempt, image: image, countAttempt: true)
        case .confirmExisting:
            try confirmExisting(attempt, id: customID, token: token)
        case .retry(let outcome):
            try carryOut(outcome, attempt, countAttempt: true)
        case .pause(let reason, let kind):
            pauseQueue(reason, kind: kind)
            release(job)
        case .fail(let reason, let code):
            try fail(
                job, reason: reason, code: code, sha256: attempt.sha256, countAttempt: true, config: attempt.config,
                version: attempt.version)
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
        let delay = RetryPolicy(config: config.upload).delayMillis(
            attemptsMade: job.attempts + 1, retryAfterMillis: nil,
            rateLimited: false)
        try deps.store.markRetrying(
            id: job.id, error: reason, code: nil,
            nextAttemptAtMillis: Timestamp.nowMillis() + delay, countAttempt: false)
        logger.warning(
            "cannot read the file for now; will try again",
            metadata: [
                "job": "\(job.id)", "path": "\(job.path)", "reason": "\(reason)", "retry_in_ms": "\(delay)",
            ])
    }

    private func upload(_ form: MultipartForm, token: APIToken, config: Config) throws -> ImagesClient.Reply {
        guard config.cloudflare.batchAPI else {
            return try watch(client.upload(form, token: token, admission: admission))
        }
        let (batchToken, failure) = try deps.batchTokens.token(client: client, admission: admission, apiToken: token)
        guard let batchToken else { return try watch(failure!) }
        guard
            deps.batchTokens.limiter.acquire(shouldStop: { [heartbeat, deps] in
                heartbeat.beat(.waitingForBudget)
                return deps.shutdown.isStopping
            })
        else {
            throw ImagesClient.Stopped()
        }
        let target = ImagesClient.UploadTarget(
            url: "\(config.cloudflare.batchBaseURL)/images/v1", token: batchToken,
            countsAgainstGlobalBudget: false)
        let reply = try watch(client.upload(form, token: token, target: target, admission: admission))
        if case .credentials = reply.classification {
            // An expired or revoked batch token is not a refused API token: fetch a new one and try again soon.
            deps.batchTokens.invalidate()
            return .init(
                classification: .transient(
                    reason: "batch token refused; refreshing it", code: nil,
                    retryAfterMillis: 0, rateLimited: false),
                response: reply.response, image: nil)
        }
        return reply
    }

    /// Every reply passes the pool's path monitor: an outage pauses the queue there, not in the client.
    func watch(_ reply: ImagesClient.Reply) throws -> ImagesClient.Reply {
        if let reason = deps.pathMonitor.pausedFor(reply) { throw ImagesClient.Stopped(pausedFor: reason) }
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
