import Synchronization

/// Whether the whole queue is paused, and why. A refused token or account, an account whose image quota is
/// full, or an API that cannot be reached (no route, no name, TLS refused, an outage), pauses every worker at
/// once, so no job burns attempts on a problem that is not about its file; the prober lifts the pause when a
/// probe gets through. The operator's pause (`imagedrop pause`) is held apart: no probe lifts it, only
/// `imagedrop resume`, and lifting it leaves a pause the API caused in force.
package final class PauseGate: Sendable {
    package enum Kind: Sendable, Equatable, CaseIterable {
        /// The token or account was refused: resume when a probe is accepted.
        case credentials
        /// The path to the API failed: resume when a probe gets any answer that is not a refusal.
        case unreachable
        /// The account's image quota is full (code 5453): resume when the account's stats show room.
        case quota

        package var metricReason: MetricReason {
            switch self {
            case .credentials: .credentials
            case .unreachable: .unreachable
            case .quota: .quota
            }
        }
    }

    /// The `reason` label of `imagedrop_paused`: a fixed word per cause, never the reason's text (which carries
    /// error details and would make a new series for every one).
    package enum MetricReason: String, Sendable, CaseIterable {
        case credentials, unreachable, quota
        /// `imagedrop pause`.
        case `operator`
    }

    private struct State {
        var api: (reason: String, kind: Kind)?
        /// `OperatorPause.text` while the operator's pause is in force.
        var byOperator: String?
    }

    private let state = Mutex(State())
    /// A SIGHUP asked for the next probe now rather than after `pause_probe_s`.
    private let probeRequested = Atomic<Bool>(false)

    package init() {}

    /// Why nothing is sent: the operator's pause first (it outlasts any probe), else the API's.
    package var reason: String? { state.withLock { $0.byOperator ?? $0.api?.reason } }
    /// The pause the API caused, which the prober works on; nil under the operator's pause alone.
    package var apiReason: String? { state.withLock { $0.api?.reason } }
    package var kind: Kind? { state.withLock { $0.api?.kind } }
    package var isPaused: Bool { reason != nil }
    package var isPausedByOperator: Bool { state.withLock { $0.byOperator != nil } }
    /// The cause `imagedrop_paused` shows: the operator's pause first, as `reason` reports it, else the API's.
    package var metricReason: MetricReason? {
        state.withLock { $0.byOperator != nil ? .operator : $0.api?.kind.metricReason }
    }

    /// Returns true when this call changed the reason (so the caller logs and records it once).
    @discardableResult
    package func pause(_ reason: String, kind: Kind = .credentials) -> Bool {
        state.withLock { current in
            defer { current.api = (reason, kind) }
            return current.api?.reason != reason
        }
    }

    /// Lifts the API's pause. Returns true when one was in force.
    @discardableResult
    package func resume() -> Bool {
        state.withLock { current in
            defer { current.api = nil }
            return current.api != nil
        }
    }

    /// The operator's pause as the table says (`OperatorPause.text`, nil: none). Returns true when it changed.
    @discardableResult
    package func setOperatorPause(_ text: String?) -> Bool {
        state.withLock { current in
            defer { current.byOperator = text }
            return current.byOperator != text
        }
    }

    /// Asks the prober to probe at once (it is waiting out `pause_probe_s`).
    package func probeSoon() { probeRequested.store(true, ordering: .releasing) }

    /// Whether a probe was asked for since the last call (the prober's wait ends when it was).
    package func takeProbeRequest() -> Bool { probeRequested.exchange(false, ordering: .acquiringAndReleasing) }
}
