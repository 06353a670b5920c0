import Synchronization

/// Whether the daemon's last write to the job table worked (the heartbeat write, every few seconds), for
/// `/healthz`: a daemon whose database cannot be written is not healthy even while its threads turn.
public final class DatabaseHealth: Sendable {
    private let problem = Mutex<String?>(nil)
    public init() {}
    public func recordWrite(_ error: (any Error)?) { problem.withLock { $0 = error.map { "\($0)" } } }
    public var writeProblem: String? { problem.withLock { $0 } }
}

extension Result {
    package var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
