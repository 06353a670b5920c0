import Testing

@testable import ImagedropPipeline
@testable import ImagedropStore

/// RetryPolicy is pure: the random draw is injected, so bounds are checked exactly.
@Suite("Retry policy", .serialized)
struct RetryPolicyTests {
    let policy = RetryPolicy(initialMillis: 1000, maxMillis: 300_000, maxAttempts: 8)

    @Test("equal jitter draws from d/2 to d, d = initial·2^(n-1) capped at the maximum")
    func backoffBounds() {
        var ranges: [ClosedRange<Int64>] = []
        for attempt in 1...12 {
            _ = policy.delayMillis(attemptsMade: attempt, retryAfterMillis: nil, rateLimited: false) { range in
                ranges.append(range)
                return range.upperBound
            }
        }
        print("backoff ranges (ms):", ranges.map { "\($0.lowerBound)-\($0.upperBound)" })
        let ceilings: [Int64] = [
            1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000, 300_000,
        ]
        #expect(ranges.map(\.upperBound) == ceilings)
        #expect(ranges.map(\.lowerBound) == ceilings.map { $0 / 2 })
        // Huge attempt counts must not overflow.
        let huge = policy.delayMillis(attemptsMade: 10_000, retryAfterMillis: nil, rateLimited: false) { $0.upperBound }
        #expect(huge == 300_000)
        #expect(
            policy.delayMillis(attemptsMade: Int.max, retryAfterMillis: nil, rateLimited: false) { $0.lowerBound }
                == 150_000)
    }

    @Test("a retry never comes sooner than half of backoff_initial_ms, and the waits grow")
    func neverTooSoon() {
        for _ in 0..<300 {
            #expect(
                (500...1000).contains(policy.delayMillis(attemptsMade: 1, retryAfterMillis: nil, rateLimited: false)))
            #expect(
                (1000...2000).contains(policy.delayMillis(attemptsMade: 2, retryAfterMillis: nil, rateLimited: false)))
        }
        // The draw is what is returned, within the range (a draw outside it is clamped).
        var drawn: ClosedRange<Int64>?
        let delay = policy.delayMillis(attemptsMade: 3, retryAfterMillis: nil, rateLimited: false) { range in
            drawn = range
            return 3210
        }
        #expect(drawn == 2000...4000)
        #expect(delay == 3210)
        #expect(policy.delayMillis(attemptsMade: 3, retryAfterMillis: nil, rateLimited: false) { _ in 0 } == 2000)
    }

    @Test("Retry-After is a floor over the jittered delay, capped at the maximum")
    func retryAfterFloor() {
        // Hint above the draw: the hint.
        #expect(
            policy.delayMillis(attemptsMade: 1, retryAfterMillis: 7000, rateLimited: true) { $0.lowerBound } == 7000)
        // Hint below the draw: the draw (a 0 hint does not mean "now").
        #expect(policy.delayMillis(attemptsMade: 3, retryAfterMillis: 100, rateLimited: false) { _ in 3500 } == 3500)
        #expect(policy.delayMillis(attemptsMade: 5, retryAfterMillis: 0, rateLimited: false) { $0.lowerBound } == 8000)
        // Above the maximum: capped.
        #expect(policy.delayMillis(attemptsMade: 1, retryAfterMillis: 900_000, rateLimited: true) == 300_000)
        #expect(policy.delayMillis(attemptsMade: 1, retryAfterMillis: Int64.max, rateLimited: false) == 300_000)
        // Negative: no hint.
        #expect(policy.delayMillis(attemptsMade: 1, retryAfterMillis: -5, rateLimited: false) { $0.lowerBound } == 500)
    }

    @Test("a 429 without a hint waits the maximum backoff")
    func rateLimitedWithoutHeader() {
        #expect(policy.delayMillis(attemptsMade: 1, retryAfterMillis: nil, rateLimited: true) == 300_000)
        let small = RetryPolicy(initialMillis: 50, maxMillis: 2000, maxAttempts: 3)
        #expect(small.delayMillis(attemptsMade: 1, retryAfterMillis: nil, rateLimited: true) == 2000)
        #expect(small.rateLimitBlockMillis(retryAfterMillis: nil) == 2000)
        #expect(small.rateLimitBlockMillis(retryAfterMillis: 700) == 700)
    }

    @Test("max_attempts requests then failed: exhausted exactly at the limit")
    func exhaustion() {
        #expect(!policy.isExhausted(attemptsMade: 1))
        #expect(!policy.isExhausted(attemptsMade: 7))
        #expect(policy.isExhausted(attemptsMade: 8))
        #expect(policy.isExhausted(attemptsMade: 9))
        let once = RetryPolicy(initialMillis: 10, maxMillis: 10, maxAttempts: 1)
        #expect(once.isExhausted(attemptsMade: 1))
    }

    @Test("a maximum below the initial backoff is raised to it; the config maps onto the policy")
    func configMapping() {
        #expect(RetryPolicy(initialMillis: 500, maxMillis: 100, maxAttempts: 2).maxMillis == 500)
        var upload = Config.Upload()
        upload.backoffInitialMillis = 50
        upload.backoffMaxMillis = 2000
        upload.maxAttempts = 4
        #expect(RetryPolicy(config: upload) == RetryPolicy(initialMillis: 50, maxMillis: 2000, maxAttempts: 4))
    }
}
