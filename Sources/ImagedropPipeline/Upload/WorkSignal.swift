import ImagedropSupport

/// Wakes idle workers when the watcher queues something, instead of having them poll the table. Timed waits
/// run on the monotonic clock: a clock set back must not hold an idle worker past its beat (the watchdog).
package final class WorkSignal: @unchecked Sendable {
    // @unchecked: all state is guarded by `condition`.
    private let condition = MonotonicCondition()
    private var generation: UInt64 = 0

    package init() {}

    package func notifyAll() {
        condition.lock()
        generation &+= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until notified or until `timeoutSeconds` pass, whichever is first.
    package func wait(timeoutSeconds: Double) {
        condition.lock()
        let start = generation
        let deadline = MonotonicCondition.deadline(afterSeconds: timeoutSeconds)
        while generation == start {
            if !condition.wait(untilMonotonicNanos: deadline) { break }
        }
        condition.unlock()
    }
}
