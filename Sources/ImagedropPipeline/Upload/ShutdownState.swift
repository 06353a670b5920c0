import Synchronization

/// The two steps of an orderly stop: `stopping` (take no new work, end waits) and, once the grace period
/// is over, `aborting` (cut in-flight transfers; their jobs go back to the queue).
package final class ShutdownState: Sendable {
    private let stoppingFlag = Atomic<Bool>(false)
    private let abortingFlag = Atomic<Bool>(false)

    package init() {}

    package var isStopping: Bool { stoppingFlag.load(ordering: .acquiring) }
    package var isAborting: Bool { abortingFlag.load(ordering: .acquiring) }

    package func beginStopping() { stoppingFlag.store(true, ordering: .releasing) }
    package func beginAborting() {
        stoppingFlag.store(true, ordering: .releasing)
        abortingFlag.store(true, ordering: .releasing)
    }
}
