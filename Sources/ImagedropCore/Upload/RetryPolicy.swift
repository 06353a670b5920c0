/// When to try a transient failure again, and when to stop: the one place that holds the retry policy.
///
/// Capped exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff and Jitter"):
/// attempt n waits a uniformly random time in [0, min(max, initial · 2^(n-1))]. A server hint
/// (`Retry-After`, `retry-after-ms`) is a floor: never retry sooner. A 429 without a hint waits the
/// maximum backoff, because Cloudflare blocks an account that exceeds its budget for up to five minutes.
public struct RetryPolicy: Sendable, Equatable {
    public var initialMillis: Int64
    public var maxMillis: Int64
    public var maxAttempts: Int

    public init(initialMillis: Int64, maxMillis: Int64, maxAttempts: Int) {
        self.initialMillis = initialMillis
        self.maxMillis = max(maxMillis, initialMillis)
        self.maxAttempts = maxAttempts
    }

    public init(config: Config.Upload) {
        self.init(initialMillis: Int64(config.backoffInitialMillis), maxMillis: Int64(config.backoffMaxMillis),
                  maxAttempts: config.maxAttempts)
    }

    /// True when a job that has now made `attemptsMade` requests must end `failed`.
    public func isExhausted(attemptsMade: Int) -> Bool { attemptsMade >= maxAttempts }

    /// The wait before the next attempt, after `attemptsMade` (≥ 1) requests.
    public func delayMillis(
        attemptsMade: Int, retryAfterMillis: Int64?, rateLimited: Bool,
        random: (ClosedRange<Int64>) -> Int64 = { Int64.random(in: $0) }
    ) -> Int64 {
        if let retryAfterMillis { return max(retryAfterMillis, 0) }
        if rateLimited { return maxMillis }
        let exponent = min(max(attemptsMade - 1, 0), 40)
        let (scaled, overflow) = initialMillis.multipliedReportingOverflow(by: Int64(1) << Int64(exponent))
        let ceiling = overflow ? maxMillis : min(maxMillis, scaled)
        return random(0...ceiling)
    }
}
