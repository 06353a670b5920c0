import Dispatch
import ImagedropSupport
import Synchronization

/// The one lane the status endpoint's database reads take: at most one runs at a time, because each takes the
/// job store's lock that every upload claim and write-back needs, and a page load must not stall the uploads.
/// A few wait their turn in order; beyond `waitingLimit` a request is refused at once (503 `busy`,
/// `Retry-After: 1`), and one that waited longer than `maxWaitNanos` is refused instead of run, so a burst
/// neither queues without end nor answers stale clients late.
package final class DatabaseLane: Sendable {
    package enum Turn: Sendable {
        case run
        /// Waited too long (or the client left): answer `busy` without touching the database.
        case skip
    }

    package let waitingLimit: Int
    private let maxWaitNanos: UInt64
    private let queue = DispatchQueue(label: "imagedrop-http-db")
    /// Requests taken (running or waiting).
    private let taken = Mutex(0)

    package init(waitingLimit: Int = 8, maxWaitNanos: UInt64) {
        self.waitingLimit = waitingLimit
        self.maxWaitNanos = maxWaitNanos
    }

    /// Queues `work`, or returns false when the lane is full (the caller answers busy). `work` runs on the
    /// lane's own thread, never on the event loop.
    package func submit(_ work: @escaping @Sendable (Turn) -> Void) -> Bool {
        let accepted = taken.withLock { count -> Bool in
            guard count < 1 + waitingLimit else { return false }
            count += 1
            return true
        }
        guard accepted else { return false }
        let queuedAt = Timestamp.monotonicNanos()
        queue.async {
            let waited = Timestamp.monotonicNanos() &- queuedAt
            work(waited > self.maxWaitNanos ? .skip : .run)
            self.taken.withLock { $0 -= 1 }
        }
        return true
    }
}
