import ImagedropSupport

/// The hand-off between the preparer and the workers: jobs whose pre-flight is done, oldest first, so a
/// worker's next request starts as soon as its last one is written back. Bounded by the preparer (it
/// waits for `depth` to have room); each entry is a claimed job, leased and in `inFlight`, with its file open.
/// The preparer's wait for room is timed on the monotonic clock, like every blocking wait of the daemon.
package final class PreparedUploads: @unchecked Sendable {
    // @unchecked: all state is guarded by `condition`.
    private let condition = MonotonicCondition()
    /// At most `preparedDepth` (8) long, so removing from the front is cheap, and a taken entry (its open
    /// file) is released at once, not when the queue next runs empty.
    private var entries: [JobProcessor.Attempt] = []

    package init() {}

    package var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return entries.count
    }

    package func put(_ prepared: JobProcessor.Attempt) {
        condition.lock()
        entries.append(prepared)
        condition.unlock()
    }

    /// The oldest entry, or nil at once when there is none (the worker then claims for itself).
    package func take() -> JobProcessor.Attempt? {
        condition.lock()
        defer { condition.unlock() }
        guard !entries.isEmpty else { return nil }
        let taken = entries.removeFirst()
        condition.broadcast()  // the preparer waits for room
        return taken
    }

    /// Waits until fewer than `depth` entries wait, or `timeoutSeconds` pass. True when there is room.
    package func waitForRoom(below depth: Int, timeoutSeconds: Double) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let deadline = MonotonicCondition.deadline(afterSeconds: timeoutSeconds)
        while entries.count >= depth {
            if !condition.wait(untilMonotonicNanos: deadline) { return entries.count < depth }
        }
        return true
    }

    /// Everything waiting, removed (for a pause or a stop: the jobs go back to the queue).
    package func takeAll() -> [JobProcessor.Attempt] {
        condition.lock()
        defer { condition.unlock() }
        let all = entries
        entries.removeAll()
        condition.broadcast()
        return all
    }
}

@available(*, unavailable)
extension JobProcessor.Attempt: Sendable {}
