/// Cloudflare's own word on the budget, from `Ratelimit: "default";r=R;t=T` reply headers: no more than R
/// further requests in the next T seconds, whatever `requests_per_5min` says (the dashboard and every other
/// client spend the same budget).
///
/// R counts from the request the reply answers: requests granted after that one were sent without knowing, and
/// are already spent. So a cap is kept as the last grant sequence number allowed (the answered grant's number
/// plus R) and the time it lapses: grant number n may go at `now` unless some cap still in force has a last
/// number below n. Sequence numbers, not times, so that the fleet's caps (numbered by Redis) and a host's own
/// (numbered by its RateLimiter) follow one rule and no clock needs to agree with another.
///
/// Several caps may be in force at once (replies arrive out of order; a new window starts while an old cap
/// lasts). A cap another one makes redundant (it allows as many or more, and lapses no later) is dropped; past
/// `maxCaps`, the two that lapse first are merged into one as strict as both (lowest number, latest lapse), so
/// bounding the list never loosens what Cloudflare said.
///
/// A cap that lapses says nothing of what comes next, and workers waiting on it would all go at once (the budget
/// configured may be larger than what the API allows). So a lapsed cap lets one more request go and holds the
/// rest until a fresh header arrives (any `add` after the lapse) — for at most one more of its spans, so that a
/// reply without a header (a lost connection) cannot hold the queue for good.
package struct ServerCaps: Sendable, Equatable {
    package struct Cap: Sendable, Equatable {
        /// The highest grant number allowed while the cap lasts.
        package var lastSequence: UInt64
        /// Monotonic nanoseconds at which the cap lapses.
        package var until: UInt64
        /// How long it lasted (T): the longest its lapse waits for a fresh header, one request at a time.
        package var span: UInt64 = 0

        var probeEnd: UInt64 { until &+ span }
    }

    /// How often a worker held by a lapsed cap looks again: a fresh header frees it at once.
    static let probeRecheckNanos: UInt64 = 50_000_000

    package static let maxCaps = 16
    package private(set) var caps: [Cap] = []

    package init() {}

    /// A reply to grant `sequence` said `remaining` more may be sent within `resetNanos`; it arrived at `now`.
    package mutating func add(answering sequence: UInt64, remaining: Int, resetNanos: UInt64, now: UInt64) {
        let cap = Cap(lastSequence: sequence &+ UInt64(max(remaining, 0)), until: now &+ resetNanos, span: resetNanos)
        caps.removeAll { $0.until <= now }
        guard cap.until > now else { return }
        if caps.contains(where: { $0.lastSequence <= cap.lastSequence && $0.until >= cap.until }) { return }
        caps.removeAll { $0.lastSequence >= cap.lastSequence && $0.until <= cap.until }
        caps.append(cap)
        if caps.count > Self.maxCaps {
            caps.sort { $0.until < $1.until }
            let merged = Cap(lastSequence: min(caps[0].lastSequence, caps[1].lastSequence), until: caps[1].until)
            caps.replaceSubrange(0...1, with: [merged])
        }
    }

    /// 0 when grant number `next` may go at `now`; otherwise nanoseconds until every cap it exceeds has lapsed.
    package func wait(next: UInt64, now: UInt64) -> UInt64 {
        var until: UInt64 = 0
        for cap in caps where cap.until > now && next > cap.lastSequence { until = max(until, cap.until) }
        if until > now { return until - now }
        // A cap still in force is newer word than a lapsed one: the lapse's one-at-a-time holds only without it.
        guard !caps.contains(where: { $0.until > now }) else { return 0 }
        for cap in caps where cap.until <= now && now < cap.probeEnd && next > cap.lastSequence &+ 1 {
            return min(cap.probeEnd - now, Self.probeRecheckNanos)
        }
        return 0
    }

    /// Grants still allowed by the strictest cap in force after `granted` grants; nil when no cap is in force.
    package func remaining(granted: UInt64, now: UInt64) -> Int? {
        let left = caps.filter { $0.until > now }.map {
            $0.lastSequence > granted ? Int(clamping: $0.lastSequence - granted) : 0
        }
        return left.min()
    }
}
