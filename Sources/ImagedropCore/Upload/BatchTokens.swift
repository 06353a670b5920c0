import ImagedropSupport
import Synchronization

/// Batch-API credentials (`cloudflare.batch_api = true`): a batch token fetched from
/// `images/v1/batch_token`, refreshed a minute before its `expiresAt` or when the batch host answers 401.
/// Uploads through it do not count against the account's global budget but against the token's own
/// 200 requests per second, enforced by its own limiter.
public final class BatchTokens: Sendable {
    private struct Current {
        var token: APIToken
        var expiresAtMillis: Int64
    }

    private let state = Mutex<Current?>(nil)
    public let limiter = RateLimiter(limit: 200, windowSeconds: 1)

    public init() {}

    public func invalidate() { state.withLock { $0 = nil } }

    /// A valid batch token, fetching a new one through `client` when needed. Nil when the refresh failed;
    /// the reply says why (credentials, transient) and is treated like any other reply.
    func token(client: ImagesClient, apiToken: APIToken) throws(ImagesClient.Stopped) -> (APIToken?, ImagesClient.Reply?) {
        let now = Timestamp.nowMillis()
        if let current = state.withLock({ $0 }), current.expiresAtMillis - 60_000 > now { return (current.token, nil) }
        let (reply, token, expiresAt) = try client.batchToken(token: apiToken)
        guard let token else { return (nil, reply) }
        // Without a readable expiry, assume a short life and refresh early rather than late.
        let expiry = expiresAt.flatMap(Timestamp.parseISO8601) ?? now + 10 * 60_000
        let current = Current(token: APIToken(token), expiresAtMillis: expiry)
        state.withLock { $0 = current }
        return (current.token, nil)
    }
}
