/// How many uploads may be in flight at once: the one policy, a value with the clock passed in.
///
/// With `upload.workers = "auto"` it works as Vector's adaptive request concurrency does: requests are
/// watched in windows about one round trip long. While the window's mean round-trip time stays near a
/// smoothed baseline and every slot was busy, the limit grows (doubling until the first sign of trouble,
/// as TCP's slow start does, then one slot a window); a 429, a 5xx or a timeout halves it at once (at most
/// once a window, so one burst is one decrease); a round trip well above the baseline (queueing somewhere:
/// the link, a proxy, the API) takes a tenth off. Little's law caps it against the request budget: the rate
/// the budget allows times the round trip is all the concurrency that can be used; past that, more workers
/// only queue at the rate limiter. It never leaves 1…`maximum`.
///
/// With a number for `workers` the limit is pinned there: 429s are handled by the rate limiter's block
/// (every worker waits), not by shrinking what the operator chose.
package struct AdaptiveConcurrency: Sendable, Equatable {
    package enum Mode: String, Sendable { case auto, fixed }

    /// Why the limit is where it is, as `status` and the metrics show it.
    package enum Bound: String, Sendable, CaseIterable {
        /// The budget's rate × the round trip: more concurrency would only wait for grants.
        case budget
        /// The round trip sets the pace: growing while it holds, or shrunk because it rose.
        case latency
        /// Halved after a 429, a 5xx or a timeout.
        case backoff
        /// `workers` is a number.
        case fixed
        /// Not every slot was busy (or nothing to send): no evidence that more would help.
        case idle
        /// At `upload.max_workers`.
        case maxWorkers = "max_workers"
    }

    /// What one finished request says about the path to the API.
    package enum Signal: Sendable, Equatable {
        case success
        /// 429, 408, 5xx, a timeout or a connection error: the API or the path asks for less.
        case backpressure
        /// Anything else (a permanent refusal, a local error): says nothing about capacity.
        case neutral
    }

    package private(set) var mode: Mode
    package private(set) var maximum: Int
    package private(set) var limit: Int
    package private(set) var bound: Bound
    /// Requests per second the binding budget allows; nil when unlimited.
    package private(set) var rateCap: Double?
    /// Smoothed mean round trip of past windows, in seconds.
    package private(set) var baselineSeconds: Double?
    package private(set) var inFlight = 0
    private var slowStart = true
    private var windowStart: UInt64
    private var windowSum = 0.0
    private var windowCount = 0
    private var windowPeak = 0
    private var lastDecrease: UInt64?
    private var lastActivity: UInt64

    /// Where `auto` starts: TCP's initial window is ten segments for the same reason, one round trip of
    /// doubling saved against a path that can take more. An API that cannot take eight answers 429 or 5xx,
    /// and the limit halves at once.
    package static let firstAutoLimit = 8
    /// A window is at least this long, so a loopback round trip of a millisecond is judged on many samples.
    package static let minimumWindowNanos: UInt64 = 50_000_000
    /// Halvings are at least this far apart however short the round trip (one burst of 429s, one decrease).
    package static let minimumDecreaseGapNanos: UInt64 = 1_000_000_000
    /// A round trip this much above the baseline, and at least `latencySlackSeconds` above it, is queueing.
    package static let latencyRise = 1.5
    package static let latencySlackSeconds = 0.005
    package static let baselineWeight = 0.3
    package static let cycleHeadroom = 1.5
    /// With no request for this long and none in flight, the bound shown is `idle`.
    package static let idleAfterNanos: UInt64 = 2_000_000_000

    /// `workers` nil is `auto` (capped at `maxWorkers`); a number pins the limit.
    package init(workers: Int?, maxWorkers: Int, rateCap: Double?, now: UInt64) {
        mode = workers == nil ? .auto : .fixed
        maximum = max(1, workers ?? maxWorkers)
        limit = workers.map { max(1, $0) } ?? min(Self.firstAutoLimit, max(1, maxWorkers))
        bound = workers == nil ? .idle : .fixed
        self.rateCap = rateCap.flatMap { $0 > 0 ? $0 : nil }
        windowStart = now
        lastActivity = now
    }

    /// A reload: a new mode, cap or budget. What was learned about the round trip is kept.
    package mutating func reconfigure(workers: Int?, maxWorkers: Int, rateCap: Double?) {
        let newMode: Mode = workers == nil ? .auto : .fixed
        self.rateCap = rateCap.flatMap { $0 > 0 ? $0 : nil }
        if newMode == .fixed {
            maximum = max(1, workers!)
            limit = maximum
            bound = .fixed
        } else {
            maximum = max(1, maxWorkers)
            if mode == .fixed {
                limit = min(Self.firstAutoLimit, maximum)
                slowStart = true
                bound = .idle
            }
            limit = min(limit, ceiling ?? maximum, maximum)
            limit = max(1, limit)
        }
        mode = newMode
    }

    /// Little's law: the budget's rate times the round trip, half as much again, plus one. The round trip
    /// measured is the request's alone; a worker's cycle is longer, and the rate limiter hands a grant back
    /// exactly one window after it was used — if no worker is waiting at that moment, the grant's time is
    /// lost for good. The spare half keeps a few workers waiting at the limiter, which keeps the rate itself
    /// within the budget: a batch token at +100 ms reached 194–197/s with no headroom, 201/s with it.
    package var ceiling: Int? {
        guard mode == .auto, let rateCap else { return nil }
        guard let baselineSeconds else { return nil }
        // The epsilon keeps 200/s × 0.1 s × 1.5 at 30, not 31, when the product lands a rounding error above.
        let needed = (rateCap * baselineSeconds * Self.cycleHeadroom - 1e-9).rounded(.up)
        return max(1, min(maximum, Int(min(needed, Double(maximum))) + 1))
    }

    /// A request starts. The caller keeps `inFlight` under `limit` (the limiter waits for a slot).
    package mutating func began(now: UInt64) {
        inFlight += 1
        windowPeak = max(windowPeak, inFlight)
        lastActivity = max(lastActivity, now)
    }

    /// A request ended after `rttSeconds` (nil when it never got a reply to time, e.g. a refused connection).
    /// `now` may be older than a reading another thread stored first: such readings count in the current
    /// window and never go backwards.
    package mutating func ended(rttSeconds: Double?, signal: Signal, now: UInt64) {
        inFlight = max(0, inFlight - 1)
        lastActivity = max(lastActivity, now)
        guard mode == .auto else { return }
        if signal == .backpressure {
            backOff(now: now)
            return
        }
        // A request counts in the window it started in: one that began before it was sent at the old limit,
        // and its round trip says nothing about the new one.
        if let rttSeconds, rttSeconds.isFinite, rttSeconds >= 0, rttSeconds < 86_400,
            now >= UInt64(rttSeconds * 1e9), now - UInt64(rttSeconds * 1e9) >= windowStart
        {
            windowSum += rttSeconds
            windowCount += 1
        }
        guard windowCount > 0, now > windowStart, now - windowStart >= windowNanos else { return }
        closeWindow(now: now)
    }

    /// The bound as it stands at `now`: `idle` once nothing was sent for a while.
    package func boundShown(now: UInt64) -> Bound {
        guard mode == .auto else { return .fixed }
        if inFlight == 0, now > lastActivity, now - lastActivity >= Self.idleAfterNanos { return .idle }
        return bound
    }

    private var windowNanos: UInt64 {
        let seconds = baselineSeconds ?? (windowCount > 0 ? windowSum / Double(windowCount) : 0)
        return max(Self.minimumWindowNanos, UInt64(min(max(seconds, 0), 600) * 1e9))
    }

    private mutating func backOff(now: UInt64) {
        let gap = max(Self.minimumDecreaseGapNanos, 2 * windowNanos)
        if let lastDecrease, now <= lastDecrease || now - lastDecrease < gap { return }
        limit = max(1, limit / 2)
        lastDecrease = now
        slowStart = false
        bound = .backoff
        resetWindow(now: now)
    }

    private mutating func closeWindow(now: UInt64) {
        let mean = windowSum / Double(windowCount)
        let baseline = baselineSeconds ?? mean
        let saturated = windowPeak >= limit
        if mean > baseline * Self.latencyRise, mean - baseline > Self.latencySlackSeconds {
            limit = max(1, min(limit - 1, Int(Double(limit) * 0.9)))
            slowStart = false
            bound = .latency
        } else {
            baselineSeconds = baseline  // the ceiling below uses the first window's round trip too
            if let ceiling, limit >= ceiling {
                limit = ceiling
                bound = .budget
            } else if limit >= maximum {
                limit = maximum
                bound = .maxWorkers
            } else if !saturated {
                bound = .idle
            } else {
                let grown = slowStart ? limit * 2 : limit + 1
                limit = min(grown, maximum, ceiling ?? maximum)
                bound = limit == ceiling ? .budget : (limit == maximum ? .maxWorkers : .latency)
            }
        }
        baselineSeconds = baseline + Self.baselineWeight * (mean - baseline)
        resetWindow(now: now)
    }

    private mutating func resetWindow(now: UInt64) {
        windowStart = max(windowStart, now)
        windowSum = 0
        windowCount = 0
        windowPeak = inFlight
    }
}
