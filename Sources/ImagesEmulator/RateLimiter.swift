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
    /// requests will be accepted in the next `resetSeconds`, and after that the window is empty again.
    ///
    /// A sliding window has no single reset, so T is when the whole window will have aged out (the newest
    /// accepted request plus the window, rounded up): both halves of the promise then hold, R errs low (slots
    /// freeing within T are not counted), and a client that takes the budget as whole again after T is right.
    struct Quota: Equatable {
        var remaining: Int
        var resetSeconds: Int

        var headerValue: String { "\"default\";r=\(remaining);t=\(resetSeconds)" }
    }

    /// `admit`, with the quota left after it (nil when unlimited).
    func admitCounting(_ key: String, nowNanos: UInt64, limit: Int, windowNanos: UInt64) -> (decision: Decision, quota: Quota?) {
        guard limit > 0 else { return (.accepted, nil) }
        let windowNanos = max(windowNanos, 1_000_000)
        return windows.withLock { windows in
            let decision = Self.decide(&windows[key, default: CircularBuffer(initialCapacity: min(limit, 1024))],
                                       nowNanos: nowNanos, limit: limit, windowNanos: windowNanos)
            let times = windows[key]!
            let remaining = max(0, limit - times.count)
            let resetNanos = times.last.map { $0 + windowNanos - min(nowNanos, $0 + windowNanos) } ?? 0
            return (decision, Quota(remaining: remaining, resetSeconds: Int((resetNanos + 999_999_999) / 1_000_000_000)))
        }
    }

    private static func decide(_ times: inout CircularBuffer<UInt64>, nowNanos: UInt64, limit: Int, windowNanos: UInt64) -> Decision {
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
