import ImagedropSystem

/// Whether the daemon is alive in the watchdog's sense: every thread is where it should be. Moving bytes is
/// not the test — a backlog waiting for budget, a 429 block, a paused token or a slow upload is healthy —
/// a thread that stopped turning is. The one rule, shared by the systemd watchdog (and any health endpoint).
///
/// Each component publishes a `Heartbeat`: when it last beat and what it is doing. What it is doing decides
/// how long it may go without a beat:
/// - turning loops (main loop, watcher, idle or paused workers, a worker waiting for budget or a Retry-After
///   block) beat at least once a second, so `stallSeconds` of silence means the loop is stuck;
/// - a worker carrying a job beats before each request (every rate-limiter grant, every wait slice), and one
///   request is bounded by `request_timeout_s`; past that plus `marginSeconds` the request is wedged.
package enum Liveness: Equatable, Sendable {
    case alive
    case wedged(String)

    package struct Rule: Sendable, Equatable {
        /// Silence allowed to a loop that beats each turn (they turn at least once a second).
        package var stallSeconds: Double
        /// `upload.request_timeout_s`: how long one request may legitimately run.
        package var requestTimeoutSeconds: Double
        /// Headroom over the request timeout for the local work around a request (hashing, SQLite, moves).
        package var marginSeconds: Double

        package init(requestTimeoutSeconds: Double, stallSeconds: Double = 30, marginSeconds: Double = 60) {
            self.requestTimeoutSeconds = requestTimeoutSeconds
            self.stallSeconds = stallSeconds
            self.marginSeconds = marginSeconds
        }

        /// How long `activity` may go without a beat; nil when it is not watched (a component that stopped).
        package func patienceSeconds(_ activity: Heartbeat.Activity) -> Double? {
            switch activity {
            case .stopped: nil
            case .working, .waitingForBudget: requestTimeoutSeconds + marginSeconds
            case .turning, .idle, .paused, .scanning: stallSeconds
            }
        }
    }

    /// The decision, from the heartbeats alone and an injected clock. The first wedged component is named.
    package static func evaluate(_ pulses: [Heartbeat.Pulse], nowNanos: UInt64, rule: Rule) -> Liveness {
        for pulse in pulses {
            guard let patience = rule.patienceSeconds(pulse.activity) else { continue }
            let silent = nowNanos > pulse.beatNanos ? Double(nowNanos - pulse.beatNanos) / 1e9 : 0
            if silent > patience {
                return .wedged(
                    "\(pulse.component) \(pulse.activity.phrase) for \(Int(silent)) s without a beat (allowed \(Int(patience)) s)"
                )
            }
        }
        return .alive
    }
}
