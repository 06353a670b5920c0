import ImagedropParsing

/// Where an upload's reply takes the job, decided without I/O: the reply (or the transport's failure, already
/// classified by ReplyClassification), the job and the retry policy in, one transition out. JobProcessor
/// carries the transition out (writes, logs, pauses); this is the rule, tested in-process.
package enum Outcome: Sendable, Equatable {
    /// Stored: `done` with this image's id and variants.
    case done(ImageRecord)
    /// The custom id exists already (a lost reply, or the same content): GET it and finish with its variants.
    case confirmExisting
    /// Transient: `retrying` after `delayMillis` (a 429 also stops the pool: `RetryPolicy.rateLimitBlockMillis`).
    case retry(reason: String, code: Int?, delayMillis: Int64, rateLimited: Bool, hint: ServerHint? = nil)
    /// Credentials refused (or, `kind: .quota`, the account's image quota full): the whole queue pauses and
    /// the job goes back untouched.
    case pause(reason: String, kind: PauseGate.Kind = .credentials)
    /// Permanent for this file, or (`gaveUp`) transient with no attempt left.
    case failed(reason: String, code: Int?, gaveUp: Bool, hint: ServerHint? = nil)
    /// Stopping past the grace period cut the request short: back to the queue, no attempt counted.
    case release

    /// What the server said about waiting (a Retry-After, a 429), carried to the write-back: a hint past
    /// `backoff_max_ms` is logged as capped, and a 429 stops the whole budget, on the last attempt too.
    package struct ServerHint: Sendable, Equatable {
        package var retryAfterMillis: Int64?
        package var rateLimited: Bool
        package init(retryAfterMillis: Int64?, rateLimited: Bool) {
            self.retryAfterMillis = retryAfterMillis
            self.rateLimited = rateLimited
        }
    }

    /// The server's hint of a transient outcome; nil when it said nothing.
    package var hint: ServerHint? {
        switch self {
        case .retry(_, _, _, _, let hint), .failed(_, _, _, let hint): hint
        default: nil
        }
    }

    /// What the daemon knows beside the reply.
    package struct Context: Sendable, Equatable {
        /// Requests made for the job before this one (the job's `attempts`).
        package var attemptsBefore: Int
        /// The daemon is past its shutdown grace period.
        package var aborting = false
        package init(attemptsBefore: Int, aborting: Bool = false) {
            self.attemptsBefore = attemptsBefore
            self.aborting = aborting
        }
    }

    package static func decide(
        _ reply: ImagesClient.Reply, context: Context, policy: RetryPolicy,
        random: (ClosedRange<Int64>) -> Int64 = { Int64.random(in: $0) }
    ) -> Outcome {
        if context.aborting, reply.response == nil { return .release }
        switch reply.classification {
        case .success:
            guard let image = reply.image else {
                return retry(
                    reason: "HTTP 200 without an image in the reply", code: nil, retryAfter: nil,
                    rateLimited: false, context: context, policy: policy, random: random)
            }
            return .done(image)
        case .alreadyExists:
            return .confirmExisting
        case .transient(let reason, let code, let retryAfter, let limited):
            return retry(
                reason: reason, code: code, retryAfter: retryAfter, rateLimited: limited, context: context,
                policy: policy, random: random)
        case .credentials(let reason, _):
            return .pause(reason: reason)
        case .quota(let reason, _):
            return .pause(reason: reason, kind: .quota)
        case .permanent(let reason, let code):
            return .failed(reason: reason, code: code, gaveUp: false)
        }
    }

    /// A transient result after one more request: `retrying` with the policy's delay (a server hint is a
    /// floor, everything capped at `backoff_max_ms`), or `failed` once `max_attempts` requests were made.
    package static func retry(
        reason: String, code: Int?, retryAfter: Int64?, rateLimited: Bool, context: Context, policy: RetryPolicy,
        countAttempt: Bool = true, random: (ClosedRange<Int64>) -> Int64 = { Int64.random(in: $0) }
    ) -> Outcome {
        let attemptsMade = context.attemptsBefore + (countAttempt ? 1 : 0)
        let hint =
            retryAfter != nil || rateLimited ? ServerHint(retryAfterMillis: retryAfter, rateLimited: rateLimited) : nil
        if countAttempt, policy.isExhausted(attemptsMade: attemptsMade) {
            return .failed(
                reason: "gave up after \(attemptsMade) attempts: \(reason)", code: code, gaveUp: true, hint: hint)
        }
        let delay = policy.delayMillis(
            attemptsMade: max(attemptsMade, 1), retryAfterMillis: retryAfter,
            rateLimited: rateLimited, random: random)
        return .retry(reason: reason, code: code, delayMillis: delay, rateLimited: rateLimited, hint: hint)
    }
}
