import Glibc
import ImagedropSupport
import Logging

/// Carries one claimed job to its next state: pre-flight, upload, classify the reply, write back.
/// One per worker thread (it owns that worker's ImagesClient and so its kept-alive connection).
final class JobProcessor {
    private let services: UploadServices
    private var client: ImagesClient
    private var clientEndpoint: ImagesClient.Endpoint
    private let afterActions: AfterUploadActions
    private var logger: Logger

    init(services: UploadServices, workerIndex: Int) {
        self.services = services
        let config = services.config.current
        self.client = services.makeClient(config)
        self.clientEndpoint = services.endpoint(config)
        self.afterActions = AfterUploadActions(store: services.store, logger: services.logger)
        self.logger = services.logger
        self.logger[metadataKey: "worker"] = "\(workerIndex)"
    }

    func process(_ job: Job) {
        let config = services.config.current
        let endpoint = services.endpoint(config)
        if endpoint != clientEndpoint {
            client = services.makeClient(config)   // reload changed the API root or timeout
            clientEndpoint = endpoint
        }
        do {
            try run(job, config: config)
        } catch is ImagesClient.Stopped {
            release(job, note: nil)
        } catch {
            // The table could not be written (disk full, I/O error). The job keeps its lease and comes
            // back when the lease expires; nothing is lost, nothing is marked done that was not.
            logger.error("could not record job state", metadata: ["job": "\(job.id)", "error": "\(error)"])
            sleepMillis(1000)
        }
    }

    private func run(_ job: Job, config: Config) throws {
        guard let token = services.tokens.token else {
            pauseQueue(services.tokens.problem ?? "no API token")
            release(job, note: nil)
            return
        }
        let inspected: InspectedFile
        switch FileInspector.inspect(path: job.path, root: job.root, followSymlinksOutside: config.watch.followSymlinksOutside) {
        case .rejected(let reason):
            try fail(job, reason: reason, code: nil, sha256: nil, countAttempt: false, config: config)
            return
        case .changing:
            logger.debug("file still changing; will look again", metadata: ["job": "\(job.id)", "path": "\(job.path)"])
            try services.store.release(id: job.id, delayMillis: Int64(max(config.watch.settleMillis, 500)))
            return
        case .ready(let file):
            inspected = file
        }
        if inspected.status.size != job.size || inspected.status.mtimeNanos != job.mtimeNanos {
            try services.store.updateVersion(id: job.id, size: inspected.status.size,
                                              mtimeNanos: inspected.status.mtimeNanos, sha256: inspected.sha256)
        }

        let relativePath = ImageIDStrategy.relativePath(of: job.path, root: job.root)
        let customID = ImageIDStrategy.customID(
            mode: config.images.idMode, prefix: config.images.idPrefix,
            requireSignedURLs: config.images.requireSignedURLs, sha256: inspected.sha256, relativePath: relativePath)

        // Cloudflare-chosen ids: an earlier attempt may have stored the image and lost the reply.
        if customID == nil, job.attempts > 0 {
            let (reply, found) = try client.findImage(jobKey: job.jobKey, token: token)
            record(reply)
            if let found {
                try finish(job, image: found, sha256: inspected.sha256, bytes: 0, countAttempt: false, config: config)
                return
            }
            switch reply.classification {
            case .success: break   // not stored yet: upload below
            case .credentials(let reason, _):
                pauseQueue(reason)
                release(job, note: nil)
                return
            case .transient(let reason, let code, let retryAfter, let limited):
                // Without an answer we cannot know whether the image exists: uploading now could store it twice.
                try retry(job, reason: "looking for an earlier upload: \(reason)", code: code, retryAfter: retryAfter,
                          rateLimited: limited, config: config)
                return
            case .permanent(let reason, let code):
                try retry(job, reason: "looking for an earlier upload: \(reason)", code: code, retryAfter: nil,
                          rateLimited: false, config: config)
                return
            case .alreadyExists:
                break
            }
        }

        var form = MultipartForm()
        form.file = FileBody(fileDescriptor: inspected.fileDescriptor, size: inspected.status.size,
                             filename: String(decoding: job.path.baseName, as: UTF8.self))
        if let customID { form.fields.append(("id", customID)) }
        form.fields.append(("metadata", ImageMetadata.build(
            userJSON: config.images.metadataJSON, sha256: inspected.sha256, sourcePath: relativePath,
            jobKey: customID == nil ? job.jobKey : nil)))
        form.fields.append(("requireSignedURLs", config.images.requireSignedURLs ? "true" : "false"))
        if let creator = config.images.creator { form.fields.append(("creator", creator)) }

        guard services.concurrency.acquire(shouldStop: { services.shutdown.isStopping }) else { throw ImagesClient.Stopped() }
        let reply: ImagesClient.Reply
        do {
            reply = try upload(form, token: token, config: config)
        } catch {
            services.concurrency.release(rateLimited: false, succeeded: false)
            throw error
        }
        let rateLimited: Bool
        if case .transient(_, _, _, let limited) = reply.classification { rateLimited = limited } else { rateLimited = false }
        services.concurrency.release(rateLimited: rateLimited, succeeded: reply.classification == .success)
        record(reply)

        if services.shutdown.isAborting, reply.response == nil {
            release(job, note: nil)   // cut short by the end of the grace period, not by the API
            return
        }
        let changed = fileChanged(job.path, since: inspected)
        switch reply.classification {
        case .success:
            guard let image = reply.image else {
                try retry(job, reason: "HTTP 200 without an image in the reply", code: nil, retryAfter: nil,
                          rateLimited: false, config: config)
                return
            }
            if changed {
                // What was sent may mix old and new bytes: remove it and upload the final version.
                _ = try? client.deleteImage(id: image.id, token: token)
                logger.notice("file changed during upload; uploading its final version",
                              metadata: ["job": "\(job.id)", "path": "\(job.path)"])
                try services.store.release(id: job.id, delayMillis: Int64(config.watch.settleMillis))
                return
            }
            services.metrics.recordUpload(bytes: inspected.status.size, at: Timestamp.monotonicNanos())
            try finish(job, image: image, sha256: inspected.sha256, bytes: inspected.status.size, countAttempt: true,
                       config: config)
        case .alreadyExists:
            try confirmExisting(job, id: customID, inspected: inspected, token: token, config: config)
        case .transient(let reason, let code, let retryAfter, let limited):
            if changed {
                logger.notice("file changed during upload; uploading its final version",
                              metadata: ["job": "\(job.id)", "path": "\(job.path)", "reason": "\(reason)"])
                try services.store.release(id: job.id, delayMillis: Int64(config.watch.settleMillis))
                return
            }
            try retry(job, reason: reason, code: code, retryAfter: retryAfter, rateLimited: limited, config: config)
        case .credentials(let reason, _):
            pauseQueue(reason)
            release(job, note: nil)
        case .permanent(let reason, let code):
            try fail(job, reason: reason, code: code, sha256: inspected.sha256, countAttempt: true, config: config)
        }
    }

    private func upload(_ form: MultipartForm, token: APIToken, config: Config) throws -> ImagesClient.Reply {
        guard config.cloudflare.batchAPI else { return try client.upload(form, token: token) }
        let (batchToken, failure) = try services.batchTokens.token(client: client, apiToken: token)
        guard let batchToken else { return failure! }
        guard services.batchTokens.limiter.acquire(shouldStop: { services.shutdown.isStopping }) else {
            throw ImagesClient.Stopped()
        }
        let target = ImagesClient.UploadTarget(url: "\(config.cloudflare.batchBaseURL)/images/v1", token: batchToken,
                                               countsAgainstGlobalBudget: false)
        let reply = try client.upload(form, token: token, target: target)
        if case .credentials = reply.classification {
            // An expired or revoked batch token is not a refused API token: fetch a new one and try again soon.
            services.batchTokens.invalidate()
            return .init(classification: .transient(reason: "batch token refused; refreshing it", code: nil,
                                                    retryAfterMillis: 0, rateLimited: false),
                         response: reply.response, image: nil)
        }
        return reply
    }

    /// 409/5409: an image with this id exists. GET it: the same bytes mean the job is done (a retry after a
    /// lost reply, or the same content dropped twice); other bytes under a path id mean the file changed and
    /// the new version replaces the old image.
    private func confirmExisting(_ job: Job, id: String?, inspected: InspectedFile, token: APIToken, config: Config) throws {
        guard let id else {
            try fail(job, reason: "API answered 409 for an upload without a custom id", code: 5409,
                     sha256: inspected.sha256, countAttempt: true, config: config)
            return
        }
        let reply = try client.image(id: id, token: token)
        record(reply)
        switch reply.classification {
        case .success:
            guard let image = reply.image else {
                try retry(job, reason: "image \(id) exists but its details were unreadable", code: nil, retryAfter: nil,
                          rateLimited: false, config: config)
                return
            }
            if let existing = image.metaSHA256, existing != inspected.sha256 {
                if config.images.idMode == .path {
                    let deleted = try client.deleteImage(id: id, token: token)
                    record(deleted)
                    logger.notice("file under a known path changed; replacing its image",
                                  metadata: ["job": "\(job.id)", "image": "\(id)"])
                    try retry(job, reason: "replacing the previous version of image \(id)", code: 5409, retryAfter: 0,
                              rateLimited: false, config: config)
                } else {
                    try fail(job, reason: "image id \(id) already exists with different content (sha256 \(existing))",
                             code: 5409, sha256: inspected.sha256, countAttempt: true, config: config)
                }
                return
            }
            try finish(job, image: image, sha256: inspected.sha256, bytes: 0, countAttempt: true, config: config)
        case .credentials(let reason, _):
            pauseQueue(reason)
            release(job, note: nil)
        case .transient(let reason, let code, let retryAfter, let limited):
            try retry(job, reason: "confirming existing image: \(reason)", code: code, retryAfter: retryAfter,
                      rateLimited: limited, config: config)
        case .permanent(let reason, let code):
            try retry(job, reason: "API said 409 but the image cannot be read back: \(reason)", code: code,
                      retryAfter: nil, rateLimited: false, config: config)
        case .alreadyExists:
            try retry(job, reason: "unexpected 409 on GET", code: 5409, retryAfter: nil, rateLimited: false, config: config)
        }
    }

    // MARK: - Outcomes

    private func finish(_ job: Job, image: ImageRecord, sha256: String, bytes: Int, countAttempt: Bool, config: Config) throws {
        let action = AfterUploadActions.pendingAction(success: true, config: config)
        try services.store.markDone(id: job.id, imageID: image.id, variants: image.variants ?? [], sha256: sha256,
                                    countAttempt: countAttempt, afterAction: action)
        logger.info("uploaded", metadata: [
            "job": "\(job.id)", "path": "\(job.path)", "status": "done", "image": "\(image.id)",
            "attempt": "\(job.attempts + (countAttempt ? 1 : 0))",
        ])
        if action != nil, var done = try services.store.job(id: job.id) {
            done.afterAction = action
            afterActions.run(done, config: config)
        }
    }

    private func fail(_ job: Job, reason: String, code: Int?, sha256: String?, countAttempt: Bool, config: Config) throws {
        let action = AfterUploadActions.pendingAction(success: false, config: config)
        try services.store.markFailed(id: job.id, error: reason, code: code, sha256: sha256, countAttempt: countAttempt,
                                      afterAction: action)
        services.metrics.recordFailure(code: code)
        var metadata: Logger.Metadata = ["job": "\(job.id)", "path": "\(job.path)", "status": "failed", "reason": "\(reason)"]
        if let code { metadata["cf_code"] = "\(code)" }
        logger.warning("upload failed", metadata: metadata)
        if action != nil, let failed = try services.store.job(id: job.id) { afterActions.run(failed, config: config) }
    }

    private func retry(_ job: Job, reason: String, code: Int?, retryAfter: Int64?, rateLimited: Bool, config: Config) throws {
        let policy = RetryPolicy(config: config.upload)
        let attemptsMade = job.attempts + 1
        if rateLimited {
            // The whole pool waits, not just this worker: the budget is the account's.
            services.limiter.block(forMillis: retryAfter ?? policy.maxMillis)
        }
        if policy.isExhausted(attemptsMade: attemptsMade) {
            try fail(job, reason: "gave up after \(attemptsMade) attempts: \(reason)", code: code, sha256: nil,
                     countAttempt: true, config: config)
            return
        }
        services.metrics.recordRetry(rateLimited: rateLimited)
        let delay = policy.delayMillis(attemptsMade: attemptsMade, retryAfterMillis: retryAfter, rateLimited: rateLimited)
        try services.store.markRetrying(id: job.id, error: reason, code: code,
                                        nextAttemptAtMillis: Timestamp.nowMillis() + delay, countAttempt: true)
        var metadata: Logger.Metadata = ["job": "\(job.id)", "path": "\(job.path)", "status": "retrying",
                                         "attempt": "\(attemptsMade)", "delay_ms": "\(delay)", "reason": "\(reason)"]
        if let code { metadata["cf_code"] = "\(code)" }
        logger.notice("upload will be retried", metadata: metadata)
    }

    private func release(_ job: Job, note: String?) {
        do { try services.store.release(id: job.id, note: note) } catch {
            logger.error("could not release job", metadata: ["job": "\(job.id)", "error": "\(error)"])
        }
    }

    private func pauseQueue(_ reason: String) {
        let text = "token refused: \(reason)"
        if services.pause.pause(text) {
            logger.error("queue paused", metadata: ["reason": "\(text)"])
            try? services.store.recordPause(text)
        }
    }

    private func record(_ reply: ImagesClient.Reply) {
        if let response = reply.response { services.metrics.recordRequest(seconds: response.totalSeconds) }
    }

    /// The path now names a different version than the one sent (rewritten in place, replaced, removed).
    private func fileChanged(_ path: RawPath, since inspected: InspectedFile) -> Bool {
        guard case .success(let byDescriptor) = FileStatus.of(fileDescriptor: inspected.fileDescriptor),
              byDescriptor.sameVersion(as: inspected.status) else { return true }
        guard case .success(let byPath) = FileStatus.of(path) else { return false }   // deleted after sending: fine
        return !byPath.sameVersion(as: inspected.status)
    }
}

@available(*, unavailable)
extension JobProcessor: Sendable {}

func sleepMillis(_ millis: Int) {
    var request = timespec(tv_sec: millis / 1000, tv_nsec: (millis % 1000) * 1_000_000)
    nanosleep(&request, nil)
}
