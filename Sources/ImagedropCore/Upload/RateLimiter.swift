import Glibc
import ImagedropSupport
import Synchronization

/// The account's request budget (`requests_per_5min`), shared by every worker and every kind of request.
///
/// A sliding-window log rather than a token bucket: Cloudflare counts requests in a rolling window, and a
/// bucket's burst on top of its rate can exceed such a window and earn a five-minute block. Each grant
/// records its time; the next is allowed once the grant `limit` places back is older than the window plus
/// a small margin (for the time a request takes to reach the API). A 429 stops every worker until the
/// wait the API asked for (or the policy's) has passed.
public final class RateLimiter: Sendable {
    private struct State {
        var limit: Int
        var windowNanos: UInt64
        var grants: [UInt64]       // ring of monotonic grant times, `limit` long
        var next = 0
        var blockedUntil: UInt64 = 0
    }

    private let state: Mutex<State>
    public let marginNanos: UInt64

    /// `limit` requests per `windowSeconds`; 0 means unlimited.
    public init(limit: Int, windowSeconds: Double = 300) {
        let window = UInt64(windowSeconds * 1e9)
        // 1% of the window, at least 100 ms and at most 3 s: covers connection setup and clock granularity.
        marginNanos = min(max(window / 100, 100_000_000), 3_000_000_000)
        state = Mutex(State(limit: limit, windowNanos: window, grants: Array(repeating: 0, count: max(limit, 0))))
    }

    public convenience init(requestsPer5Min: Int) { self.init(limit: requestsPer5Min, windowSeconds: 300) }

    /// Changes the budget (SIGHUP reload) while keeping what was already spent.
    public func update(limit: Int, windowSeconds: Double = 300) {
        state.withLock { state in
            guard limit != state.limit || UInt64(windowSeconds * 1e9) != state.windowNanos else { return }
            let recent = (0..<state.grants.count).map { state.grants[($0 + state.next) % max(state.grants.count, 1)] }
            state.limit = limit
            state.windowNanos = UInt64(windowSeconds * 1e9)
            state.grants = Array(repeating: 0, count: max(limit, 0))
            state.next = 0
            for time in recent.suffix(max(limit, 0)) where time > 0 {
                state.grants[state.next] = time
                state.next = (state.next + 1) % state.grants.count
            }
        }
    }

    /// How long the caller must wait before it may send (0: a grant was recorded and it may send now).
    func tryAcquire(now: UInt64 = Timestamp.monotonicNanos()) -> UInt64 {
        state.withLock { state in
            if now < state.blockedUntil { return state.blockedUntil - now }
            guard state.limit > 0 else { return 0 }
            let oldest = state.grants[state.next]
            let freeAt = oldest == 0 ? 0 : oldest + state.windowNanos + marginNanos
            if now < freeAt { return freeAt - now }
            state.grants[state.next] = now
            state.next = (state.next + 1) % state.limit
            return 0
        }
    }

    /// Blocks until a request may be sent. Returns false, without a grant, when `shouldStop` turns true.
    public func acquire(shouldStop: () -> Bool) -> Bool {
        while true {
            if shouldStop() { return false }
            let wait = tryAcquire()
            if wait == 0 { return true }
            // Sleep in slices so a stopping daemon is not held by a long wait.
            let slice = min(wait, 50_000_000)
            var request = timespec(tv_sec: Int(slice / 1_000_000_000), tv_nsec: Int(slice % 1_000_000_000))
            nanosleep(&request, nil)
        }
    }

    /// A 429 was seen: nobody sends again before `millis` from now.
    public func block(forMillis millis: Int64) {
        let until = Timestamp.monotonicNanos() + UInt64(max(millis, 0)) * 1_000_000
        state.withLock { state in state.blockedUntil = max(state.blockedUntil, until) }
    }

    public var blockedRemainingMillis: Int64 {
        let now = Timestamp.monotonicNanos()
        return state.withLock { state in state.blockedUntil > now ? Int64((state.blockedUntil - now) / 1_000_000) : 0 }
    }
}
