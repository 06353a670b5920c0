import ImagedropSupport
import Testing

@testable import ImagedropPipeline

/// The sliding-window budget, driven with explicit clock values (tryAcquire(now:)), so no sleeping.
@Suite("Rate limiter", .serialized)
struct RateLimiterTests {
    @Test("N grants in a burst, then the next waits until the first leaves the window (plus the margin)")
    func slidingWindow() {
        let limiter = RateLimiter(limit: 60, windowSeconds: 30)
        let start: UInt64 = 1_000_000_000_000
        for index in 0..<60 {
            #expect(limiter.tryAcquire(now: start + UInt64(index) * 1_000_000) == 0)
        }
        let wait = limiter.tryAcquire(now: start + 60_000_000)
        let expected = 30_000_000_000 + limiter.marginNanos - 60_000_000
        print(
            "after 60 grants in 60 ms the 61st waits \(Double(wait) / 1e9) s (window 30 s, margin \(Double(limiter.marginNanos) / 1e9) s)"
        )
        #expect(wait == expected)
        #expect(limiter.marginNanos == 300_000_000)
        // Just before the first grant leaves the window: still refused; at it: granted; the next one waits
        // for the second grant (1 ms later).
        let freeAt = start + 30_000_000_000 + limiter.marginNanos
        #expect(limiter.tryAcquire(now: freeAt - 1) == 1)
        #expect(limiter.tryAcquire(now: freeAt) == 0)
        #expect(limiter.tryAcquire(now: freeAt) == 1_000_000)
    }

    @Test("grants spread over the window never exceed the limit in any window")
    func neverMoreThanLimitPerWindow() {
        let limiter = RateLimiter(limit: 10, windowSeconds: 1)
        var now: UInt64 = 5_000_000_000
        var grants: [UInt64] = []
        while grants.count < 100 {
            let wait = limiter.tryAcquire(now: now)
            if wait == 0 {
                grants.append(now)
                now += 7_000_000
            } else {
                now += wait
            }
        }
        for (index, time) in grants.enumerated() {
            let inWindow = grants[index...].prefix { $0 < time + 1_000_000_000 }.count
            #expect(inWindow <= 10)
        }
        let span = Double(grants.last! - grants.first!) / 1e9
        print("100 grants at 10/s took \(span) s of simulated time")
        #expect(span >= 9)
    }

    @Test("block(forMillis:) stops every caller until it passes; unlimited means no waiting")
    func blockAndUnlimited() {
        let limiter = RateLimiter(limit: 0, windowSeconds: 300)
        #expect(limiter.tryAcquire() == 0)
        limiter.block(forMillis: 2000)
        let wait = limiter.tryAcquire()
        #expect(wait > 1_900_000_000 && wait <= 2_000_000_000)
        #expect(limiter.blockedRemainingMillis > 1900)
        #expect(limiter.tryAcquire(now: Timestamp.monotonicNanos() + 2_100_000_000) == 0)
        // A shorter block never shortens a longer one.
        limiter.block(forMillis: 10)
        #expect(limiter.blockedRemainingMillis > 1800)
        // acquire gives up when told to stop.
        #expect(limiter.acquire(shouldStop: { true }) == false)
    }

    @Test("update keeps what was already spent")
    func updateKeepsSpent() {
        let limiter = RateLimiter(limit: 5, windowSeconds: 10)
        let now = Timestamp.monotonicNanos()
        for _ in 0..<5 { #expect(limiter.tryAcquire(now: now) == 0) }
        limiter.update(limit: 6, windowSeconds: 10)
        #expect(limiter.tryAcquire(now: now) == 0)
        #expect(limiter.tryAcquire(now: now) > 0)
        limiter.update(limit: 3, windowSeconds: 10)
        #expect(limiter.tryAcquire(now: now) > 0)
    }
}
