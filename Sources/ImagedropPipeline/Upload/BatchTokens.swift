import ImagedropStore
import ImagedropSupport
import Synchronization

/// Batch-API credentials (`cloudflare.batch_api = true`): a batch token fetched from
/// `images/v1/batch_token`, refreshed ahead of its `expiresAt` or when the batch host answers 401.
/// Uploads through it do not count against the account's global budget but against the token's own
/// 200 requests per second, enforced by its own limiter.
package final class BatchTokens: Sendable {
    private struct Current {
        var token: APIToken
        /// When to fetch the next one: a minute before `expiresAt`, or a quarter of the token's life before
        /// it when the life is short, so a token is never used at the edge of its validity.
        var refreshAtMillis: Int64
    }

    private let state = Mutex<Current?>(nil)
    /// Held while one worker fetches a token, so a pool that starts together makes one request, not eight.
    private let refreshing = Mutex(())
    package let limiter = RateLimiter(limit: 200, windowSeconds: 1)

    package init() {}

    package func invalidate() { state.withLock { $0 = nil } }

    private func validToken() -> APIToken? {
        guard let current = state.withLock({ $0 }), current.refreshAtMillis > Timestamp.nowMillis() else { return nil }
        return current.token
    }

    /// A valid batch token, fetching a new one through `client` when needed. Nil when the refresh failed;
    /// the reply says why (credentials, transient) and is treated like any other reply.
    package func token(
        client: ImagesClient, admission: RequestAdmission, apiToken: APIToken
    ) throws(ImagesClient.Stopped) -> (APIToken?, ImagesClient.Reply?) {
        if let valid = validToken() { return (valid, nil) }
        return try refreshing.withLock { _ throws(ImagesClient.Stopped) -> (APIToken?, ImagesClient.Reply?) in
            if let valid = validToken() { return (valid, nil) }  // another worker fetched it meanwhile
            let now = Timestamp.nowMillis()
            let (reply, token, expiresAt) = try client.batchToken(token: apiToken, admission: admission)
            guard let token else { return (nil, reply) }
            // Without a readable expiry, assume a short life and refresh early rather than late.
            let expiry = expiresAt.flatMap(Timestamp.parseISO8601) ?? now + 10 * 60_000
            let margin = min(60_000, max(0, expiry - now) / 4)
            let current = Current(token: APIToken(token), refreshAtMillis: expiry - margin)
            state.withLock { $0 = current }
            return (current.token, nil)
        }
    }
}
