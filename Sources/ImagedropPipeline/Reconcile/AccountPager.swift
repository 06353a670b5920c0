import ImagedropParsing
import ImagedropStore

/// Reads every image of the account, page after page of list v2, handing each page on before the next is
/// asked for (a million images are never held at once). Each page is one request through the request budget,
/// waited for like any other; a transient failure is retried with the upload policy's backoff (a 429 blocks
/// the budget for its `Retry-After`), and what still fails after `max_attempts` ends the listing.
package final class AccountPager {
    /// Why the account could not be read to the end: the API refused the credentials, or did not answer.
    package struct Failure: Error, CustomStringConvertible {
        package var description: String
    }

    private let client: ImagesClient
    private let token: APIToken
    private let perPage: Int
    private let policy: RetryPolicy
    private let limiter: RateLimiter
    /// The budget's wait before each page, never cut short: `reconcile` ends with its process.
    private let admission: RequestAdmission
    /// With `cloudflare.batch_api`: pages go to the batch host with a batch token (`batchURL`), at its own rate.
    private let batch: (tokens: BatchTokens, url: String)?

    package init(
        client: ImagesClient, token: APIToken, perPage: Int, config: Config, limiter: RateLimiter,
        batchTokens: BatchTokens?
    ) {
        self.client = client
        self.token = token
        self.perPage = perPage
        self.policy = RetryPolicy(config: config.upload)
        self.limiter = limiter
        self.admission = RequestAdmission(budget: limiter)
        self.batch = batchTokens.map { ($0, "\(config.cloudflare.batchBaseURL)/images/v2") }
    }

    /// Calls `body` with each page in turn; returns how many requests were sent.
    @discardableResult
    package func forEachPage(_ body: ([ImageRecord]) throws -> Void) throws -> Int {
        var continuation: String?
        var requests = 0
        repeat {
            let (page, sent) = try fetch(after: continuation)
            requests += sent
            try body(page.images)
            continuation = page.continuationToken.flatMap { $0.isEmpty ? nil : $0 }
        } while continuation != nil
        return requests
    }

    private func fetch(after continuation: String?) throws(Failure) -> (ImageList, Int) {
        var attempts = 0
        while true {
            attempts += 1
            let target: ImagesClient.UploadTarget?
            let reply: ImagesClient.Reply
            let list: ImageList?
            do {
                // Without the batch API there is no target; with it, a failed token fetch is this attempt's reply.
                let fetched = try batchTarget()
                if let failure = fetched.failure {
                    (target, reply, list) = (nil, failure, nil)
                } else {
                    target = fetched.target
                    (reply, list) = try client.listImages(
                        continuationToken: continuation, perPage: perPage, token: token,
                        target: target, admission: admission)
                }
            } catch {
                throw Failure(description: "stopped")
            }
            let reason: String
            switch reply.classification {
            case .success:
                if let list { return (list, attempts) }
                reason = "a page of the image list was unreadable"
            case .credentials(let refusal, _):
                // Refused at the API (the list, or the batch token's fetch): the token itself is refused.
                guard target != nil else { throw Failure(description: "credentials refused: \(refusal)") }
                // An expired batch token is not a refused API token: the next attempt fetches a new one.
                batch?.tokens.invalidate()
                reason = "batch token refused: \(refusal)"
            case .transient(let transient, _, let retryAfter, let rateLimited):
                if rateLimited { limiter.block(forMillis: policy.rateLimitBlockMillis(retryAfterMillis: retryAfter)) }
                guard !policy.isExhausted(attemptsMade: attempts) else {
                    throw Failure(description: "API unreachable: \(transient)")
                }
                if !rateLimited {
                    sleepMillis(
                        Int(
                            policy.delayMillis(attemptsMade: attempts, retryAfterMillis: retryAfter, rateLimited: false)
                        ))
                }
                continue
            case .permanent(let refusal, _), .quota(let refusal, _):
                throw Failure(description: "the API refused to list images: \(refusal)")
            case .alreadyExists:
                reason = "unexpected 409 listing images"
            }
            guard !policy.isExhausted(attemptsMade: attempts) else { throw Failure(description: reason) }
            sleepMillis(Int(policy.delayMillis(attemptsMade: attempts, retryAfterMillis: nil, rateLimited: false)))
        }
    }

    /// The batch host and a valid batch token (fetched through the budget when needed), after a grant from
    /// the token's own limiter; no target without the batch API; the reply of a token fetch that failed.
    private func batchTarget() throws(ImagesClient.Stopped) -> (
        target: ImagesClient.UploadTarget?, failure: ImagesClient.Reply?
    ) {
        guard let batch else { return (nil, nil) }
        let (batchToken, failure) = try batch.tokens.token(client: client, admission: admission, apiToken: token)
        guard let batchToken else { return (nil, failure) }
        _ = batch.tokens.limiter.acquire(shouldStop: { false })
        return (ImagesClient.UploadTarget(url: batch.url, token: batchToken, countsAgainstGlobalBudget: false), nil)
    }
}

@available(*, unavailable)
extension AccountPager: Sendable {}
