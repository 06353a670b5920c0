import Synchronization

/// The API token in force. Re-read from its source when a paused queue re-probes (a rotated token file or
/// credential is picked up without a restart).
public final class TokenProvider: Sendable {
    private let state: Mutex<(source: TokenSource, token: APIToken?, problem: String?)>

    public init(source: TokenSource) {
        let loaded = Result { try source.load() }
        switch loaded {
        case .success(let token): state = Mutex((source, token, nil))
        case .failure(let error): state = Mutex((source, nil, "\(error)"))
        }
    }

    public var token: APIToken? { state.withLock { $0.token } }
    public var problem: String? { state.withLock { $0.problem } }

    public func replaceSource(_ source: TokenSource) {
        state.withLock { $0.source = source }
        reload()
    }

    @discardableResult
    public func reload() -> APIToken? {
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
