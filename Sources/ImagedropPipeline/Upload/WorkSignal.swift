import ImagedropSupport
import ImagedropSystem
import ImagedropStore
import Foundation

/// Wakes idle workers when the watcher queues something, instead of having them poll the table.
public final class WorkSignal: @unchecked Sendable {
    // @unchecked: all state is guarded by `condition`.
    private let condition = NSCondition()
    private var generation: UInt64 = 0

    public init() {}

    public func notifyAll() {
        condition.lock()
        generation &+= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until notified or until `timeoutSeconds` pass, whichever is first.
    public func wait(timeoutSeconds: Double) {
        condition.lock()
        let start = generation
        let deadline = Date(timeIntervalSinceNow: max(0, timeoutSeconds))
        while generation == start {
            if !condition.wait(until: deadline) { break }
        }
        condition.unlock()
    }
}
