import Synchronization

/// Whether the whole queue is paused, and why. A refused token or account pauses every worker at once, so
/// no job burns attempts on a credentials problem; the prober lifts the pause when the token works again.
public final class PauseGate: Sendable {
    private let reasonState = Mutex<String?>(nil)

    public init() {}

    public var reason: String? { reasonState.withLock { $0 } }
    public var isPaused: Bool { reason != nil }

    /// Returns true when this call changed the state (so the caller logs and records it once).
    @discardableResult
    public func pause(_ reason: String) -> Bool {
        reasonState.withLock { current in
            defer { current = reason }
            return current != reason
        }
    }

    @discardableResult
    public func resume() -> Bool {
        reasonState.withLock { current in
            defer { current = nil }
            return current != nil
        }
    }
}
