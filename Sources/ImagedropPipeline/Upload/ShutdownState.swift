import Synchronization

/// The two steps of an orderly stop: `stopping` (take no new work, end waits) and, once the grace period
/// is over, `aborting` (cut in-flight transfers; their jobs go back to the queue).
public final class ShutdownState: Sendable {
    private let stoppingFlag = Atomic<Bool>(false)
    private let abortingFlag = Atomic<Bool>(false)

    public init() {}

    public var isStopping: Bool { stoppingFlag.load(ordering: .acquiring) }
    public var isAborting: Bool { abortingFlag.load(ordering: .acquiring) }

    public func beginStopping() { stoppingFlag.store(true, ordering: .releasing) }
    public func beginAborting() {
        stoppingFlag.store(true, ordering: .releasing)
        abortingFlag.store(true, ordering: .releasing)
    }
}
