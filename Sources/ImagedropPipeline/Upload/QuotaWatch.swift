import ImagedropSupport
import Synchronization

/// When the daemon reads the account's image stats (`GET …/images/v1/stats`) on its own, before any upload
/// meets a 5453: once at start — workers send nothing until that first read is over, so a full account pauses
/// the queue without a refused upload, but wait for it `startWaitNanos` at most: a slow API must not hold the
/// whole queue for a request's timeout (an upload then meets the API's own 5453) — and again after every
/// `uploadsBetweenChecks` images stored. The prober thread does the reading (`UploadWorkerPool.checkQuota`);
/// uploads only count here.
package final class QuotaWatch: Sendable {
    package static let uploadsBetweenChecks = 1_000

    private let uploadsSinceCheck = Atomic<Int>(0)
    /// The start's read is not "due": the prober makes it before its loop, whatever this says.
    private let due = Atomic<Bool>(false)
    private let startChecked = Atomic<Bool>(false)
    /// When workers stop waiting for the start's read (monotonic ns; 0 until the read begins).
    private let startWaitEnds = Atomic<UInt64>(0)
    package static let startWaitNanos: UInt64 = 2_000_000_000

    package init() {}

    /// An image stored by an upload (not one found already there).
    package func noteUpload() {
        if uploadsSinceCheck.add(1, ordering: .relaxed).newValue >= Self.uploadsBetweenChecks {
            uploadsSinceCheck.store(0, ordering: .relaxed)
            due.store(true, ordering: .releasing)
        }
    }

    /// True once per due check: the caller reads the stats now.
    package func takeDue() -> Bool { due.exchange(false, ordering: .acquiringAndReleasing) }

    /// Whether workers may send: the start's read is over (whatever it found), or took too long.
    package func isStartChecked(now: UInt64 = Timestamp.monotonicNanos()) -> Bool {
        if startChecked.load(ordering: .acquiring) { return true }
        let ends = startWaitEnds.load(ordering: .acquiring)
        return ends != 0 && now >= ends
    }

    package func beginStartCheck(now: UInt64 = Timestamp.monotonicNanos()) {
        startWaitEnds.store(now + Self.startWaitNanos, ordering: .releasing)
    }

    package func markStartChecked() { startChecked.store(true, ordering: .releasing) }
}
