import NIOCore
import Synchronization

/// A sliding-window limit per key: at most `limit` accepted requests in any `window`.
///
/// Only accepted requests are recorded. A client that keeps retrying while refused is not pushed further out:
/// the window frees as soon as its oldest accepted request ages out, which is what `Retry-After` promises.
/// (The real API documents a flat five-minute block instead; a well-behaved client sees no difference when it
/// honours Retry-After, and a test can still observe refusals by sending more than `limit` requests.)
final class SlidingWindowLimiter: Sendable {
    enum Decision: Equatable {
        case accepted
        /// Whole seconds until a slot frees, rounded up (at least 1).
        case refused(retryAfterSeconds: Int)
    }

    let limit: Int
    let windowNanos: UInt64
    private let windows = Mutex<[String: CircularBuffer<UInt64>]>([:])

    init(limit: Int, windowSeconds: Double) {
        self.limit = limit
        self.windowNanos = UInt64(max(windowSeconds, 0.001) * 1_000_000_000)
    }

    func admit(_ key: String, nowNanos: UInt64) -> Decision {
        admit(key, nowNanos: nowNanos, limit: limit, windowNanos: windowNanos)
    }

    /// The same with a limit chosen per call, so the admin route can change the limit while requests arrive
    /// (the recorded times are kept: a shorter window frees them sooner, a longer one holds them longer).
    func admit(_ key: String, nowNanos: UInt64, limit: Int, windowNanos: UInt64) -> Decision {
        admitCounting(key, nowNanos: nowNanos, limit: limit, windowNanos: windowNanos).decision
    }

    /// What a `Ratelimit: "default";r=R;t=T` reply header says after this request: no more than `remaining`
    /// requests will be accepted in the next `resetSeconds`.
    ///
    /// A sliding window has no single reset. T is when the oldest request still counted ages out (rounded up):
    /// until then no slot frees, so R is exactly what is left, and the promise is as tight as it can be true.
    /// (T as "when the whole window is empty" was true too, but so loose that a client obeying it — as it must —
    /// used about half the budget: it forbade what the slots freeing meanwhile would allow.) With nothing
    /// counted, T is the window. After T the client knows nothing new until the next reply, which is why it
    /// sends one request at a time then (`ServerCaps`).
    struct Quota: Equatable {
        var remaining: Int
        var resetSeconds: Int

        var headerValue: String { "\"default\";r=\(remaining);t=\(resetSeconds)" }
    }

    /// `admit`, with the quota left after it (nil when unlimited).
    func admitCounting(
        _ key: String, nowNanos: UInt64, limit: Int, windowNanos: UInt64
    ) -> (decision: Decision, quota: Quota?) {
        guard limit > 0 else { return (.accepted, nil) }
        let windowNanos = max(windowNanos, 1_000_000)
        return windows.withLock { windows in
            let decision = Self.decide(
                &windows[key, default: CircularBuffer(initialCapacity: min(limit, 1024))],
                nowNanos: nowNanos, limit: limit, windowNanos: windowNanos)
            let times = windows[key]!
            let remaining = max(0, limit - times.count)
            let resetNanos = times.first.map { $0 + windowNanos - min(nowNanos, $0 + windowNanos) } ?? windowNanos
            return (
                decision, Quota(remaining: remaining, resetSeconds: Int((resetNanos + 999_999_999) / 1_000_000_000))
            )
        }
    }

    private static func decide(
        _ times: inout CircularBuffer<UInt64>, nowNanos: UInt64, limit: Int, windowNanos: UInt64
    ) -> Decision {
        while let oldest = times.first, oldest + windowNanos <= nowNanos {
            times.removeFirst()
        }
        if times.count < limit {
            times.append(nowNanos)
            return .accepted
        }
        // After a lowered limit more than `limit` times may be held: the slot frees when the one that
        // brings the count below the limit ages out.
        let freeing = times[times.index(times.startIndex, offsetBy: times.count - limit)]
        let waitNanos = freeing + windowNanos - nowNanos
        let seconds = Int((waitNanos + 999_999_999) / 1_000_000_000)
        return .refused(retryAfterSeconds: max(1, seconds))
    }

    func removeAll() {
        windows.withLock { $0.removeAll() }
    }
}
