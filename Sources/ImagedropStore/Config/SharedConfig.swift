import Synchronization

/// The configuration in force, replaced as a whole on SIGHUP; readers take a snapshot per job.
public final class SharedConfig: Sendable {
    private let state: Mutex<Config>
    public init(_ config: Config) { state = Mutex(config) }
    public var current: Config { state.withLock { $0 } }
    public func replace(_ config: Config) { state.withLock { $0 = config } }
}
