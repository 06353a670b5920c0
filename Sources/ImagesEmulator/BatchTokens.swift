import ImagedropSupport
import Synchronization

/// Tokens for the batch host (`batch.imagedelivery.net`), minted by `GET …/images/v1/batch_token`.
/// Each carries its own 200 req/s limit and does not count against the global API limit.
final class BatchTokenRegistry: Sendable {
    private struct Entry {
        let expiresAtNanos: UInt64
        let account: String
    }

    let lifetimeSeconds: Double
    private let entries = Mutex<[String: Entry]>([:])

    init(lifetimeSeconds: Double) {
        self.lifetimeSeconds = lifetimeSeconds
    }

    /// A new token and its expiry as the API reports it (ISO-8601 UTC).
    func mint(account: String, nowNanos: UInt64) -> (token: String, expiresAt: String) {
        var generator = SystemRandomNumberGenerator()
        let random = (0..<24).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let token = "batch." + Hex.encode(random)
        let lifetimeNanos = UInt64(max(lifetimeSeconds, 0) * 1_000_000_000)
        entries.withLock { $0[token] = Entry(expiresAtNanos: nowNanos + lifetimeNanos, account: account) }
        let expiresAt = Timestamp.iso8601(millis: Timestamp.nowMillis() + Int64(lifetimeSeconds * 1000))
        return (token, expiresAt)
    }

    /// The account the token was minted for, or 401/10000 when it is unknown or expired.
    func validate(_ token: String, nowNanos: UInt64) -> Result<String, APIError> {
        entries.withLock { entries in
            guard let entry = entries[token] else { return .failure(.authentication) }
            guard nowNanos < entry.expiresAtNanos else {
                entries[token] = nil
                return .failure(.batchTokenExpired)
            }
            return .success(entry.account)
        }
    }

    func removeAll() {
        entries.withLock { $0.removeAll() }
    }
}
