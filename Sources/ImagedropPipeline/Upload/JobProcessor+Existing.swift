import ImagedropParsing
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import Logging

/// Images that may already exist: the 409 of a custom id, and the job-key lookup of Cloudflare-chosen ids.
extension JobProcessor {
    /// 409/5409: an image with this id exists. GET it: the same bytes mean the job is done (a retry after a
    /// lost reply, or the same content dropped twice); other bytes under a path id mean the file changed and
    /// the new version replaces the old image.
    package func confirmExisting(_ attempt: Attempt, id: String?, token: APIToken) throws {
        let job = attempt.job
        guard let id else {
            try fail(
                job, reason: "API answered 409 for an upload without a custom id", code: 5409,
                sha256: attempt.sha256, countAttempt: true, config: attempt.config, version: attempt.version)
            return
        }
        let reply = try watch(client.image(id: id, token: token, admission: admission))
        record(reply)
        switch reply.classification {
        case .success:
            guard let image = reply.image else {
                try retry(
                    attempt, reason: "image \(id) exists but its details were unreadable", code: nil,
                    retryAfter: nil, rateLimited: false)
                return
            }
            if let mine = attempt.sha256, let existing = image.metaSHA256, existing != mine {
                if attempt.config.images.idMode == .path {
                    let deleted = try watch(client.deleteImage(id: id, token: token, admission: admission))
                    record(deleted)
                    switch DeleteOutcome(deleted) {
                    case .gone:
                        logger.notice(
                            "file under a known path changed; replacing its image",
                            metadata: ["job": "\(job.id)", "image": "\(id)"])
                        try retry(
                            attempt, reason: "replacing the previous version of image \(id)", code: 5409,
                            retryAfter: 0, rateLimited: false)
                    case .transient(let reason, let code, let retryAfter, let limited):
                        try retry(
                            attempt, reason: "deleting the previous version of image \(id): \(reason)", code: code,
                            retryAfter: retryAfter, rateLimited: limited)
                    case .pause(let reason, let kind):
                        pauseQueue(reason, kind: kind)
                        release(job)
                    case .permanent(let reason, let code):
                        try fail(
                            job, reason: "cannot delete the previous version of image \(id): \(reason)", code: code,
                            sha256: attempt.sha256, countAttempt: true, config: attempt.config,
                            version: attempt.version)
                    }
                } else {
                    try fail(
                        job, reason: "image id \(id) already exists with different content (sha256 \(existing))",
                        code: 5409, sha256: attempt.sha256, countAttempt: true, config: attempt.config,
                        version: attempt.version)
                }
                return
            }
            try finish(attempt, image: image, countAttempt: true, alreadyStored: true)
        case .credentials(let reason, _):
            pauseQueue(reason)
            release(job)
        case .quota(let reason, _):
            pauseQueue(reason, kind: .quota)
            release(job)
        case .transient(let reason, let code, let retryAfter, let limited):
            try retry(
                attempt, reason: "confirming existing image: \(reason)", code: code, retryAfter: retryAfter,
                rateLimited: limited)
        case .permanent(let reason, let code):
            try retry(
                attempt, reason: "API said 409 but the image cannot be read back: \(reason)", code: code,
                retryAfter: nil, rateLimited: false)
        case .alreadyExists:
            try retry(attempt, reason: "unexpected 409 on GET", code: 5409, retryAfter: nil, rateLimited: false)
        }
    }

    /// Cloudflare-chosen ids after an earlier send: looks for the image by the job key in its metadata.
    /// Returns true when the job was settled here (found, paused, or the lookup must be tried again);
    /// false when nothing was stored and the upload may go ahead.
    package func foundEarlierUpload(_ attempt: Attempt, token: APIToken) throws -> Bool {
        let (unwatched, found) = try client.findImage(jobKey: attempt.job.jobKey, token: token, admission: admission)
        let reply = try watch(unwatched)
        record(reply)
        if let found {
            if found.metaSHA256 == attempt.sha256 {
                try finish(attempt, image: found, countAttempt: false, alreadyStored: true)
                return true
            }
            // Stored by an earlier send of another version of the file (the job key belongs to the row, not
            // to one version), or with mixed bytes: it is not this file. Remove it, then upload.
            let deleted = try watch(client.deleteImage(id: found.id, token: token, admission: admission))
            record(deleted)
            switch DeleteOutcome(deleted) {
            case .gone:
                return false
            case .transient(let reason, let code, let retryAfter, let limited):
                try retry(
                    attempt, reason: "removing an outdated earlier upload \(found.id): \(reason)", code: code,
                    retryAfter: retryAfter, rateLimited: limited)
            case .pause(let reason, let kind):
                pauseQueue(reason, kind: kind)
                release(attempt.job)
            case .permanent(let reason, let code):
                try retry(
                    attempt, reason: "removing an outdated earlier upload \(found.id) failed: \(reason)",
                    code: code, retryAfter: nil, rateLimited: false)
            }
            return true
        }
        switch reply.classification {
        case .success, .alreadyExists:
            return false
        case .credentials(let reason, _):
            pauseQueue(reason)
            release(attempt.job)
            return true
        case .quota(let reason, _):
            pauseQueue(reason, kind: .quota)
            release(attempt.job)
            return true
        case .transient(let reason, let code, let retryAfter, let limited):
            // Without an answer we cannot know whether the image exists: uploading now could store it twice.
            // Counted as an attempt, so a list endpoint that keeps failing ends the job instead of looping.
            try retry(
                attempt, reason: "looking for an earlier upload: \(reason)", code: code, retryAfter: retryAfter,
                rateLimited: limited)
            return true
        case .permanent(let reason, let code):
            try fail(
                attempt.job, reason: "cannot look for an earlier upload, so it is not sent again: \(reason)",
                code: code, sha256: attempt.sha256, countAttempt: false, config: attempt.config,
                version: attempt.version)
            return true
        }
    }
}
