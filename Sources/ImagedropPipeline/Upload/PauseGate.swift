import ImagedropSupport
import ImagedropSystem
import ImagedropStore
import Synchronization

/// Whether the whole queue is paused, and why. A refused token or account, an account whose image quota is
/// full, or an API that cannot be reached (no route, no name, TLS refused, an outage), pauses every worker at
/// once, so no job burns attempts on a problem that is not about its file; the prober lifts the pause when a
/// probe gets through.
public final class PauseGate: Sendable {
    public enum Kind: Sendable, Equatable, CaseIterable {
        /// The token or account was refused: resume when a probe is accepted.
        case credentials
        /// The path to the API failed: resume when a probe gets any answer that is not a refusal.
        case unreachable
        /// The account's image quota is full (code 5453): resume when the account's stats show room.
        case quota

        /// The `reason` label of `imagedrop_paused`: a fixed word per kind, never the reason's text (which
        /// carries error details and would make a new series for every one).
        public var metricReason: String {
            switch self {
            case .credentials: "credentials"
            case .unreachable: "unreachable"
            case .quota: "quota"
            }
        }
    }

    private let state = Mutex<(reason: String, kind: Kind)?>(nil)

    public init() {}

    public var reason: String? { state.withLock { $0?.reason } }
    public var kind: Kind? { state.withLock { $0?.kind } }
    public var isPaused: Bool { reason != nil }

    /// Returns true when this call changed the reason (so the caller logs and records it once).
    @discardableResult
    public func pause(_ reason: String, kind: Kind = .credentials) -> Bool {
        state.withLock { current in
            defer { current = (reason, kind) }
            return current?.reason != reason
        }
    }

    @discardableResult
    public func resume() -> Bool {
        state.withLock { current in
            defer { current = nil }
            return current != nil
        }
    }
}
