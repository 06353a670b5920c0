import Synchronization

/// The configuration in force, replaced as a whole on SIGHUP; readers take a snapshot per job.
package final class SharedConfig: Sendable {
    private let state: Mutex<Config>
    package init(_ config: Config) { state = Mutex(config) }
    package var current: Config { state.withLock { $0 } }
    package func replace(_ config: Config) { state.withLock { $0 = config } }
}
