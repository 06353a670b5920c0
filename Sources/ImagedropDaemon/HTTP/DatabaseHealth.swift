import Synchronization

/// Whether the daemon's last write to the job table worked (the heartbeat write, every few seconds), for
/// `/healthz`: a daemon whose database cannot be written is not healthy even while its threads turn.
package final class DatabaseHealth: Sendable {
    private let problem = Mutex<String?>(nil)
    package init() {}
    package func recordWrite(_ error: (any Error)?) { problem.withLock { $0 = error.map { "\($0)" } } }
    package var writeProblem: String? { problem.withLock { $0 } }
}

extension Result {
    package var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
