@testable import ImagedropCore
import Testing

/// Found by the soak (seed 5): two workers got a 429 at the same moment; the one whose clock reading was
/// earlier took the lock second and computed `now - lastDecrease` below zero — an arithmetic-overflow trap
/// (SIGILL) that killed the daemon. Readings taken outside the lock may arrive out of order.
@Suite("ConcurrencyLimiter")
struct ConcurrencyLimiterTests {
    @Test("a 429 whose clock reading is older than the last decrease neither traps nor halves again")
    func outOfOrderReadings() {
        let limiter = ConcurrencyLimiter(maximum: 8)
        limiter.release(rateLimited: true, succeeded: false, now: 5_000_000_000)
        #expect(limiter.limit == 4)
        limiter.release(rateLimited: true, succeeded: false, now: 4_999_000_000)
        #expect(limiter.limit == 4)
        limiter.release(rateLimited: true, succeeded: false, now: 6_500_000_000)
        #expect(limiter.limit == 2)
    }
}
