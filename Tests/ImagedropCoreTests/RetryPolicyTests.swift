@testable import ImagedropCore
import Testing

/// RetryPolicy is pure: the random draw is injected, so bounds are checked exactly.
@Suite("Retry policy", .serialized)
struct RetryPolicyTests {
    let policy = RetryPolicy(initialMillis: 1000, maxMillis: 300_000, maxAttempts: 8)

    @Test("full jitter draws from 0 up to initial·2^(n-1), capped at the maximum")
    func backoffBounds() {
        var ranges: [ClosedRange<Int64>] = []
        for attempt in 1...12 {
            _ = policy.delayMillis(attemptsMade: attempt, retryAfterMillis: nil, rateLimited: false) { range in
                ranges.append(range)
                return range.upperBound
            }
        }
        print("backoff ceilings (ms):", ranges.map(\.upperBound))
        #expect(ranges.allSatisfy { $0.lowerBound == 0 })
        #expect(ranges.map(\.upperBound) == [1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000,
                                             300_000, 300_000, 300_000])
        // Huge attempt counts must not overflow.
        let huge = policy.delayMillis(attemptsMade: 10_000, retryAfterMillis: nil, rateLimited: false) { $0.upperBound }
        #expect(huge == 300_000)
    }

    @Test("the injected random value is what is returned, so jitter really is uniform in the range")
    func jitterIsTheDraw() {
        let delay = policy.delayMillis(attemptsMade: 3, retryAfterMillis: nil, rateLimited: false) { range in
            #expect(range == 0...4000)
            return 1234
        }
        #expect(delay == 1234)
        for _ in 0..<200 {
            let real = policy.delayMillis(attemptsMade: 2, retryAfterMillis: nil, rateLimited: false)
            #expect((0...2000).contains(real))
        }
    }

    @Test("Retry-After is a floor: the server's wait is used as is, never shortened, even above the maximum")
    func retryAfterFloor() {
        var drew = false
        let delay = policy.delayMillis(attemptsMade: 1, retryAfterMillis: 7000, rateLimited: true) { _ in drew = true; return 0 }
        #expect(delay == 7000)
        #expect(!drew)
        #expect(policy.delayMillis(attemptsMade: 1, retryAfterMillis: 900_000, rateLimited: true) == 900_000)
        #expect(policy.delayMillis(attemptsMade: 5, retryAfterMillis: 0, rateLimited: false) == 0)
        #expect(policy.delayMillis(attemptsMade: 5, retryAfterMillis: -5, rateLimited: false) == 0)
    }

    @Test("a 429 without a hint waits the maximum backoff")
    func rateLimitedWithoutHeader() {
        #expect(policy.delayMillis(attemptsMade: 1, retryAfterMillis: nil, rateLimited: true) == 300_000)
        let small = RetryPolicy(initialMillis: 50, maxMillis: 2000, maxAttempts: 3)
        #expect(small.delayMillis(attemptsMade: 1, retryAfterMillis: nil, rateLimited: true) == 2000)
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
