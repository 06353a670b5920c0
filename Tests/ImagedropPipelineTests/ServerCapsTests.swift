import ImagedropParsing
import Testing

@testable import ImagedropPipeline

/// Cloudflare's `Ratelimit: "default";r=R;t=T` over the configured budget: the cap arithmetic, then the
/// RateLimiter obeying it with explicit clock values.
@Suite("Server caps")
struct ServerCapsTests {
    let second: UInt64 = 1_000_000_000

    @Test("R counts from the answered grant: grants made after it are already spent")
    func countsFromAnsweredGrant() {
        var caps = ServerCaps()
        // Grant 10 was answered with r=5, t=30 when grants up to 13 had gone: 11, 12, 13 spent, 14 and 15 left.
        caps.add(answering: 10, remaining: 5, resetNanos: 30 * second, now: 100 * second)
        #expect(caps.wait(next: 15, now: 100 * second) == 0)
        #expect(caps.wait(next: 16, now: 100 * second) == 30 * second)
        #expect(caps.wait(next: 16, now: 120 * second) == 10 * second)
        #expect(caps.wait(next: 16, now: 130 * second) == 0)
        #expect(caps.remaining(granted: 13, now: 100 * second) == 2)
        #expect(caps.remaining(granted: 13, now: 130 * second) == nil)
    }

    @Test("A lapsed cap lets one request go, then holds the rest until a fresh header (or one more span) — no burst")
    func lapseSendsOneAtATime() {
        var caps = ServerCaps()
        caps.add(answering: 10, remaining: 5, resetNanos: 30 * second, now: 100 * second)
        #expect(caps.wait(next: 16, now: 130 * second) == 0, "one request after the lapse")
        #expect(caps.wait(next: 17, now: 130 * second) == ServerCaps.probeRecheckNanos, "the rest wait for word")
        #expect(caps.wait(next: 17, now: 159 * second) == ServerCaps.probeRecheckNanos)
        #expect(caps.wait(next: 17, now: 160 * second) == 0, "a reply without a header holds nothing for good")
        // The reply to grant 16 brings a fresh header: it, not the lapse, rules from then on.
        caps.add(answering: 16, remaining: 3, resetNanos: 5 * second, now: 131 * second)
        #expect(caps.wait(next: 19, now: 131 * second) == 0)
        #expect(caps.wait(next: 20, now: 131 * second) == 5 * second)
        // A lapsed cap holds nothing while another is in force.
        var two = ServerCaps()
        two.add(answering: 10, remaining: 0, resetNanos: 5 * second, now: 0)
        two.add(answering: 9, remaining: 11, resetNanos: 60 * second, now: 0)
        #expect(two.wait(next: 20, now: 6 * second) == 0)
        #expect(two.wait(next: 21, now: 6 * second) == 54 * second)
    }

    @Test("r=0 stops every grant for t; a later, looser cap does not lift a stricter one still in force")
    func strictestWins() {
        var caps = ServerCaps()
        caps.add(answering: 20, remaining: 0, resetNanos: 10 * second, now: 0)
        #expect(caps.wait(next: 21, now: 0) == 10 * second)
        // A reply to an earlier grant (out of order) allowing more, for longer: both stand.
        caps.add(answering: 18, remaining: 40, resetNanos: 60 * second, now: 1 * second)
        #expect(caps.caps.count == 2)
        #expect(caps.wait(next: 21, now: 5 * second) == 5 * second)
        #expect(caps.wait(next: 21, now: 10 * second) == 0)
        #expect(caps.wait(next: 59, now: 10 * second) == 51 * second)
        // A cap that allows no less and lapses no later than one in force adds nothing.
        caps.add(answering: 18, remaining: 40, resetNanos: 30 * second, now: 2 * second)
        #expect(caps.caps.count == 2)
        // One stricter and longer makes an existing one redundant.
        caps.add(answering: 20, remaining: 0, resetNanos: 20 * second, now: 2 * second)
        #expect(caps.caps.count == 2)
        #expect(caps.wait(next: 21, now: 12 * second) == 10 * second)
    }

    @Test("Bounding the list merges the first to lapse into one as strict as both: never looser")
    func boundedNeverLooser() {
        var caps = ServerCaps()
        // Each cap allows more but lasts longer than the one before: none is redundant.
        for index in 0..<UInt64(40) {
            caps.add(answering: index * 10, remaining: 5, resetNanos: (index + 1) * second, now: 0)
        }
        #expect(caps.caps.count <= ServerCaps.maxCaps)
        for index in 0..<UInt64(40) {
            // What each of the 40 caps forbids is still forbidden (at least as long).
            #expect(caps.wait(next: index * 10 + 6, now: 0) >= (index + 1) * second)
        }
    }

    @Test("The RateLimiter obeys the header whatever its own budget says, and its figures show it")
    func rateLimiterObeys() {
        let limiter = RateLimiter(limit: 100, windowSeconds: 300)
        var granted: [UInt64] = []
        for offset in 0..<UInt64(3) {
            let (wait, sequence) = limiter.tryGrant(now: second + offset, wallMillis: 0)
            #expect(wait == 0)
            granted.append(sequence)
        }
        #expect(granted == [1, 2, 3])
        // The reply to the first grant says 3 more in 20 s: grants 2 and 3 are spent, one left.
        limiter.obey(
            RateLimitHeader(policy: "default", remaining: 3, resetSeconds: 20),
            answering: BudgetTicket(sequence: 1, shared: false), now: 2 * second)
        #expect(limiter.remaining(now: 2 * second) == 1)
        #expect(limiter.tryGrant(now: 3 * second, wallMillis: 0).wait == 0)
        #expect(limiter.tryGrant(now: 3 * second, wallMillis: 0).wait == 19 * second)
        #expect(limiter.waitMillis(requests: 1, now: 3 * second) == 19_000)
        #expect(limiter.tryGrant(now: 22 * second, wallMillis: 0).wait == 0)
    }

    @Test("Unlimited budget (0) still obeys the header")
    func unlimitedObeys() {
        let limiter = RateLimiter(limit: 0, windowSeconds: 300)
        #expect(limiter.tryGrant(now: second, wallMillis: 0) == (0, 1))
        limiter.obey(
            RateLimitHeader(policy: "default", remaining: 0, resetSeconds: 5),
            answering: BudgetTicket(sequence: 1, shared: false), now: second)
        #expect(limiter.tryGrant(now: 2 * second, wallMillis: 0).wait == 4 * second)
        #expect(limiter.tryGrant(now: 6 * second, wallMillis: 0).wait == 0)
    }
}
