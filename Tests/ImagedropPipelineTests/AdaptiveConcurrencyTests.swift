import Testing

@testable import ImagedropPipeline
@testable import ImagedropStore

/// The concurrency policy on a simulated clock: each "round" starts `limit` requests together and ends
/// them one round trip later, as a saturated pool would.
@Suite("AdaptiveConcurrency")
struct AdaptiveConcurrencyTests {
    static let second: UInt64 = 1_000_000_000

    struct Link {
        var policy: AdaptiveConcurrency
        var now: UInt64 = 10 * AdaptiveConcurrencyTests.second

        init(workers: Int? = nil, maxWorkers: Int = 64, rateCap: Double? = nil) {
            policy = AdaptiveConcurrency(
                workers: workers, maxWorkers: maxWorkers, rateCap: rateCap,
                now: 10 * AdaptiveConcurrencyTests.second)
        }

        /// `busy` requests (all slots by default) over one round trip of `rtt` seconds.
        mutating func round(rtt: Double, busy: Int? = nil, signal: AdaptiveConcurrency.Signal = .success) {
            let count = busy ?? policy.limit
            for _ in 0..<count { policy.began(now: now) }
            now += UInt64(rtt * 1e9)
            for _ in 0..<count { policy.ended(rttSeconds: rtt, signal: signal, now: now) }
        }

        mutating func rounds(_ n: Int, rtt: Double) -> [Int] {
            (0..<n).map { _ in
                round(rtt: rtt)
                return policy.limit
            }
        }
    }

    @Test("on a latency-bound link with no budget it ramps up to max_workers within a few round trips")
    func rampsUp() {
        var link = Link(maxWorkers: 64)
        #expect(link.policy.limit == AdaptiveConcurrency.firstAutoLimit && link.policy.mode == .auto)
        let limits = link.rounds(8, rtt: 0.3)
        #expect(limits.prefix(3) == [16, 32, 64], "\(limits)")
        #expect(zip(limits, limits.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(link.policy.limit == 64)
        #expect(link.policy.bound == .maxWorkers)
    }

    @Test("it holds at the budget's bound: rate × round trip (Little's law), not max_workers")
    func holdsAtBudget() {
        // 200 requests/s (a batch token) at 100 ms: 20 in flight use it all; half as much again and one
        // slot keep a worker waiting whenever the rate limiter hands a grant back.
        var link = Link(maxWorkers: 64, rateCap: 200)
        _ = link.rounds(10, rtt: 0.1)
        #expect(link.policy.limit == 31)
        #expect(link.policy.bound == .budget)
        let later = link.rounds(50, rtt: 0.1)
        #expect(later.allSatisfy { $0 == 31 }, "\(later)")
        // The global budget's average rate (1,200 per 5 min = 4/s) at 100 ms needs two.
        var global = Link(maxWorkers: 64, rateCap: 4)
        _ = global.rounds(5, rtt: 0.1)
        #expect(global.policy.limit == 2 && global.policy.bound == .budget)
    }

    @Test("a 429 or 5xx halves the limit at once, one burst of them only once")
    func halvesOnBackpressure() {
        var link = Link(maxWorkers: 64)
        _ = link.rounds(6, rtt: 0.1)
        #expect(link.policy.limit == 64)
        link.policy.began(now: link.now)
        link.policy.ended(rttSeconds: 0.1, signal: .backpressure, now: link.now)
        #expect(link.policy.limit == 32)
        #expect(link.policy.bound == .backoff)
        // The rest of the same burst.
        for offset in 1...20 {
            link.policy.began(now: link.now)
            link.policy.ended(rttSeconds: 0.1, signal: .backpressure, now: link.now + UInt64(offset) * 10_000_000)
        }
        #expect(link.policy.limit == 32)
        link.now += 2 * Self.second
        link.round(rtt: 0.1, busy: 1, signal: .backpressure)
        #expect(link.policy.limit == 16)
    }

    @Test("never above max_workers, never below 1")
    func staysInRange() {
        var small = Link(maxWorkers: 3)
        #expect(small.policy.limit == 3)
        _ = small.rounds(10, rtt: 0.05)
        #expect(small.policy.limit == 3)
        var link = Link(maxWorkers: 64)
        for _ in 0..<20 {
            link.now += 5 * Self.second
            link.round(rtt: 0.1, busy: 1, signal: .backpressure)
            #expect(link.policy.limit >= 1)
        }
        #expect(link.policy.limit == 1)
    }

    @Test("after backing off it recovers one slot per round trip while the latency holds")
    func recovers() {
        var link = Link(maxWorkers: 16)
        _ = link.rounds(4, rtt: 0.1)
        #expect(link.policy.limit == 16)
        link.round(rtt: 0.1, busy: 1, signal: .backpressure)
        #expect(link.policy.limit == 8)
        let limits = link.rounds(10, rtt: 0.1)
        #expect(limits == [9, 10, 11, 12, 13, 14, 15, 16, 16, 16], "\(limits)")
        #expect(link.policy.bound == .maxWorkers)
    }

    @Test("a round trip well above the smoothed baseline (queueing) takes slots off")
    func latencyRiseShrinks() {
        var link = Link(maxWorkers: 64)
        _ = link.rounds(3, rtt: 0.1)
        let before = link.policy.limit
        link.round(rtt: 0.4)
        #expect(link.policy.limit < before)
        #expect(link.policy.bound == .latency)
    }

    @Test("without every slot busy it does not grow, and a quiet pool shows idle")
    func idleDoesNotGrow() {
        var link = Link(maxWorkers: 64)
        for _ in 0..<10 { link.round(rtt: 0.1, busy: 1) }
        #expect(link.policy.limit == AdaptiveConcurrency.firstAutoLimit)
        #expect(link.policy.bound == .idle)
        var busy = Link(maxWorkers: 64)
        _ = busy.rounds(2, rtt: 0.1)
        #expect(busy.policy.boundShown(now: busy.now) == .latency)
        #expect(busy.policy.boundShown(now: busy.now + 3 * Self.second) == .idle)
    }

    @Test("a number pins it: back-pressure and latency leave it where the operator set it")
    func fixedIsPinned() {
        var link = Link(workers: 6)
        #expect(link.policy.limit == 6 && link.policy.mode == .fixed && link.policy.bound == .fixed)
        link.round(rtt: 0.1, signal: .backpressure)
        _ = link.rounds(5, rtt: 0.1)
        link.round(rtt: 2)
        #expect(link.policy.limit == 6 && link.policy.bound == .fixed)
    }

    /// Found by the soak (seed 5) on the earlier limiter: two workers got a 429 at the same moment; the one
    /// whose clock reading was earlier took the lock second and computed `now - lastDecrease` below zero —
    /// an arithmetic-overflow trap. Readings taken outside the lock may arrive out of order.
    @Test("a 429 whose clock reading is older than the last decrease neither traps nor halves again")
    func outOfOrderReadings() {
        var upload = Config.Upload()
        upload.maxWorkers = 4
        let limiter = ConcurrencyLimiter(upload, rateCap: nil, now: 1_000_000_000)
        limiter.release(rttSeconds: nil, signal: .backpressure, now: 5_000_000_000)
        #expect(limiter.currentLimit == 2)
        limiter.release(rttSeconds: nil, signal: .backpressure, now: 4_999_000_000)
        #expect(limiter.currentLimit == 2)
        limiter.release(rttSeconds: 0.1, signal: .success, now: 4_998_000_000)
        limiter.release(rttSeconds: nil, signal: .backpressure, now: 6_500_000_000)
        #expect(limiter.currentLimit == 1)
    }

    @Test("a reload switches mode and cap, clamping what auto had learned")
    func reconfigure() {
        var link = Link(maxWorkers: 64)
        _ = link.rounds(6, rtt: 0.1)
        #expect(link.policy.limit == 64)
        link.policy.reconfigure(workers: nil, maxWorkers: 10, rateCap: nil)
        #expect(link.policy.limit == 10)
        link.policy.reconfigure(workers: 3, maxWorkers: 10, rateCap: nil)
        #expect(link.policy.limit == 3 && link.policy.mode == .fixed)
        link.policy.reconfigure(workers: nil, maxWorkers: 64, rateCap: 200)
        #expect(link.policy.mode == .auto && link.policy.limit == AdaptiveConcurrency.firstAutoLimit)
        _ = link.rounds(10, rtt: 0.1)
        #expect(link.policy.limit == 31)
    }

    @Test("upload.workers is \"auto\" by default, a number pins it, anything else is refused naming the key")
    func configKeys() throws {
        func parse(_ upload: String) throws -> Config.Upload {
            try ConfigLoader.parse(
                """
                [cloudflare]
                account_id = "023e105f4ecef8ad9ca31a8372d0c353"
                [watch]
                paths = ["/tmp"]
                [upload]
                \(upload)
                """, path: "test.toml", checkFolders: false
            ).upload
        }
        let defaults = try parse("")
        #expect(defaults.fixedWorkers == nil && defaults.maxWorkers == 64)
        #expect(try parse(#"workers = "auto""#).fixedWorkers == nil)
        #expect(try parse("workers = 6").fixedWorkers == 6)
        #expect(try parse("max_workers = 12").maxWorkers == 12)
        for (bad, message) in [
            (#"workers = "lots""#, #"upload.workers: must be "auto" or a whole number (got "lots")"#),
            ("workers = 0", "upload.workers: must be at least 1"),
            ("max_workers = 257", "upload.max_workers: must be at most 256"),
        ] {
            do {
                _ = try parse(bad)
                Issue.record("\(bad) was accepted")
            } catch let error as ConfigError {
                #expect("\(error)".contains(message), "\(error)")
            }
        }
    }
}
