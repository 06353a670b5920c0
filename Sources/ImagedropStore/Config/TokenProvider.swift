import Synchronization

/// The API token in force. Re-read from its source when a paused queue re-probes (a rotated token file or
/// credential is picked up without a restart).
package final class TokenProvider: Sendable {
    private let state: Mutex<(source: TokenSource, token: APIToken?, problem: String?)>

    package init(source: TokenSource) {
        let loaded = Result { try source.load() }
        switch loaded {
        case .success(let token): state = Mutex((source, token, nil))
        case .failure(let error): state = Mutex((source, nil, "\(error)"))
        }
    }

    package var token: APIToken? { state.withLock { $0.token } }
    package var problem: String? { state.withLock { $0.problem } }

    package func replaceSource(_ source: TokenSource) {
        state.withLock { $0.source = source }
        reload()
    }

    @discardableResult
    package func reload() -> APIToken? {
        state.withLock { state in
            do {
                state.token = try state.source.load()
                state.problem = nil
            } catch {
                state.problem = "\(error)"
            }
            return state.token
        }
    }
}
