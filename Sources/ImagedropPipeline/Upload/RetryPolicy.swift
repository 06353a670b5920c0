import ImagedropStore

/// When to try a transient failure again, and when to stop: the one place that holds the retry policy.
///
/// Capped exponential backoff with equal jitter (AWS architecture blog, "Exponential Backoff and Jitter"):
/// attempt n waits a uniformly random time in [d/2, d], d = min(max, initial · 2^(n-1)). Full jitter
/// ([0, d]) could follow a 503 within milliseconds; equal jitter never retries sooner than half the
/// backoff and still spreads a pool that failed together. A server hint (`Retry-After`, `retry-after-ms`)
/// is a floor over that delay: never retry sooner than asked. A 429 without a hint waits the maximum,
/// because Cloudflare blocks an account that exceeds its budget for up to five minutes. Every wait, a
/// hint's included, is capped at the maximum (`backoff_max_ms`): an absurd hint must not park the queue
/// for years, and Cloudflare's own block never lasts longer than the default cap.
package struct RetryPolicy: Sendable, Equatable {
    package var initialMillis: Int64
    package var maxMillis: Int64
    package var maxAttempts: Int

    package init(initialMillis: Int64, maxMillis: Int64, maxAttempts: Int) {
        self.initialMillis = max(initialMillis, 0)
        self.maxMillis = max(maxMillis, self.initialMillis)
        self.maxAttempts = maxAttempts
    }

    package init(config: Config.Upload) {
        self.init(
            initialMillis: Int64(config.backoffInitialMillis), maxMillis: Int64(config.backoffMaxMillis),
            maxAttempts: config.maxAttempts)
    }

    /// True when a job that has now made `attemptsMade` requests must end `failed`.
    package func isExhausted(attemptsMade: Int) -> Bool { attemptsMade >= maxAttempts }

    /// d for attempt n: min(max, initial · 2^(n-1)), without overflow for any n.
    package func ceilingMillis(attemptsMade: Int) -> Int64 {
        let exponent = min(max(attemptsMade - 1, 0), 62)
        let (scaled, overflow) = initialMillis.multipliedReportingOverflow(by: Int64(1) << Int64(exponent))
        return overflow ? maxMillis : min(maxMillis, scaled)
    }

    /// A server hint as the policy uses it: at most the maximum; negative hints are no hint.
    package func cappedHint(_ retryAfterMillis: Int64?) -> Int64? {
        guard let retryAfterMillis, retryAfterMillis >= 0 else { return nil }
        return min(retryAfterMillis, maxMillis)
    }

    /// True when the server asked for a longer wait than the policy allows (worth one log line).
    package func capsHint(_ retryAfterMillis: Int64?) -> Bool {
        guard let retryAfterMillis else { return false }
        return retryAfterMillis > maxMillis
    }

    /// How long a 429 stops the whole pool: the (capped) hint, else the maximum.
    package func rateLimitBlockMillis(retryAfterMillis: Int64?) -> Int64 {
        cappedHint(retryAfterMillis) ?? maxMillis
    }

    /// The wait before the next attempt, after `attemptsMade` (≥ 1) requests.
    package func delayMillis(
        attemptsMade: Int, retryAfterMillis: Int64?, rateLimited: Bool,
        random: (ClosedRange<Int64>) -> Int64 = { Int64.random(in: $0) }
    ) -> Int64 {
        let hint = cappedHint(retryAfterMillis)
        if rateLimited, hint == nil { return maxMillis }
        let ceiling = ceilingMillis(attemptsMade: attemptsMade)
        let jittered = min(max(random(ceiling / 2...ceiling), ceiling / 2), ceiling)
        return min(max(jittered, hint ?? 0), maxMillis)
    }
}
