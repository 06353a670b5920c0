/// A count that threads wait to reach zero: "every worker thread has ended", "the watcher has stopped", "stop
/// was asked for". It opens once and stays open, so a waiter that arrives late returns at once (a signal is
/// never lost, unlike a wake-up). With WorkSignal, the one blocking-wait tool of the daemon (both on
/// MonotonicCondition: a clock set back does not stretch a timed wait).
package final class Latch: @unchecked Sendable {
    // @unchecked: `count` is only read and written with `condition` locked.
    private let condition = MonotonicCondition()
    private var count: Int

    /// Opens when `count` matching `countDown()` calls have been made; 0 is open from the start.
    package init(count: Int = 1) { self.count = count }

    /// One more thing to wait for (a thread about to start). Must come before the matching `countDown`.
    package func countUp() {
        condition.lock()
        count += 1
        condition.unlock()
    }

    package func countDown() {
        condition.lock()
        count = max(0, count - 1)
        if count == 0 { condition.broadcast() }
        condition.unlock()
    }

    package var isOpen: Bool {
        condition.lock()
        defer { condition.unlock() }
        return count == 0
    }

    /// Waits until open or `seconds` pass; whether it opened.
    @discardableResult
    package func wait(seconds: Double) -> Bool {
        let deadline = MonotonicCondition.deadline(afterSeconds: seconds)
        condition.lock()
        defer { condition.unlock() }
        while count > 0 {
            if !condition.wait(untilMonotonicNanos: deadline) { return count == 0 }
        }
        return true
    }
}
