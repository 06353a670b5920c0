import ImagedropSupport
import ImagedropSystem

/// Write-behind for the workers' `done` transitions: a worker hands its job's write-back to one writer thread
/// and goes on to its next request; the writer commits what arrived within `lingerNanos` of the oldest, up to
/// `batchLimit`, in one transaction, then runs each job's completion (its log line, its metrics, its requeue
/// when the row tracks a newer version).
///
/// Why: the group commit (`GroupCommit`) only groups the transitions that arrive while another is being written,
/// and with eight workers that is seldom more than one, so each small upload paid a transaction of its own — the
/// job's leaf, `jobs_lease`, `jobs_uploaded` and `source_counts` written to the WAL again every time, the locks, a
/// share of the checkpoints: 0.10 s of CPU per 1,000 uploads, a third of the whole process (the bench's floor).
/// A worker that does not wait for its write-back lets the writer wait instead: 2 ms gathers the write-backs of a
/// dozen uploads at 4,000 files/s, and pages they share are written once (docs/benchmarks.md, eleventh round).
///
/// What a crash between the reply and the commit leaves is what it left before, for longer (normally the linger
/// plus one write; while the table cannot be written, up to `pendingCap` write-backs wait): the job still
/// `uploading`, taken again after the restart as a suspect (a content-hash id answers 409; a Cloudflare-chosen id
/// is looked for first, its send counted). Nothing is lost; nothing is recorded done that was not.
///
/// The writer runs only between `start` and `finish` (the worker pool's life); `submit` refuses outside it, and the
/// caller writes synchronously, as tests driving a processor alone do. A failed batch is retried one by one (the
/// group commit's rule: an error stays with its own body), and then the writer rests a second, as a worker did
/// after a failed write-back, while the submitters queue behind it up to `pendingCap`.
package final class WriteBehind: @unchecked Sendable {
    // @unchecked: every stored var is only touched with `condition` held, except by the writer thread's own
    // batch (taken out of `pending` under the lock).
    /// Runs on the writer thread: it may touch only what is thread-safe (never a worker's `JobProcessor`).
    package typealias Completion = @Sendable (Result<Bool, any Error>) -> Void
    package typealias Body = @Sendable (Database) throws -> Bool

    private struct Entry {
        let body: Body
        let completion: Completion
    }

    /// How long the oldest pending write-back may wait for others to share its transaction.
    package let lingerNanos: UInt64
    /// Write-backs per transaction at most: past it the batch goes at once.
    package let batchLimit: Int
    /// Submitters wait while this many are pending: a table that cannot be written holds the workers, not a
    /// growing list of uploaded jobs that a crash would leave `uploading` (each taken again alone, as a suspect).
    package let pendingCap: Int

    private let store: JobStore
    private let condition = MonotonicCondition()
    private var pending: [Entry] = []
    private var oldestAtNanos: UInt64 = 0
    private var submitted: UInt64 = 0
    private var completed: UInt64 = 0
    private var flushTarget: UInt64 = 0
    /// Transactions written (batches), for the tests and the bench's figures.
    private var batches = 0
    private var running = false
    private var ending = false
    private var heartbeat: Heartbeat?
    private let ended = Latch()

    package init(store: JobStore, lingerNanos: UInt64 = 2_000_000, batchLimit: Int = 64, pendingCap: Int = 128) {
        self.store = store
        self.lingerNanos = lingerNanos
        self.batchLimit = max(1, batchLimit)
        self.pendingCap = max(1, pendingCap)
    }

    /// Starts the writer thread (once). `heartbeat` is its pulse for the watchdog: idle at least once a second,
    /// working while a batch is written.
    package func start(heartbeat: Heartbeat? = nil) {
        let started = condition.withLock {
            guard !running, !ending else { return false }
            running = true
            self.heartbeat = heartbeat
            return true
        }
        guard started else { return }
        OSThread.start(name: "imagedrop-writer", stackSize: 1 << 20) { [self] in
            writeLoop()
            ended.countDown()
        }
    }

    /// Hands `body` to the writer; `completion` runs on the writer thread after the commit (or the failure).
    /// False when no writer runs: the caller writes itself.
    package func submit(_ body: @escaping Body, completion: @escaping Completion) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while running, !ending, pending.count >= pendingCap { condition.wait() }
        guard running, !ending else { return false }
        if pending.isEmpty { oldestAtNanos = Timestamp.monotonicNanos() }
        pending.append(Entry(body: body, completion: completion))
        submitted += 1
        // The writer sleeps with nothing pending, or lingers for a fuller batch: wake it to start its linger, or
        // because the batch is full.
        if pending.count == 1 || pending.count == batchLimit { condition.broadcast() }
        return true
    }

    /// Returns once everything submitted before the call has been written and completed.
    package func flush() {
        condition.lock()
        defer { condition.unlock() }
        let target = submitted
        guard completed < target else { return }
        flushTarget = max(flushTarget, target)
        condition.broadcast()
        while completed < target { condition.wait() }
    }

    /// Writes what is pending and ends the writer; later submissions are refused (their callers write
    /// themselves). True when the writer ended within `seconds`.
    package func finish(seconds: Double) -> Bool {
        let wasRunning = condition.withLock {
            ending = true
            condition.broadcast()
            return running
        }
        return !wasRunning || ended.wait(seconds: seconds)
    }

    /// Nothing pending or being written.
    package var isIdle: Bool { condition.withLock { completed == submitted } }

    /// Write-backs pending or being written (their jobs are still in `inFlight`, their uploads over).
    package var waiting: Int { condition.withLock { Int(submitted - completed) } }

    /// Write-backs written so far, and the transactions they took.
    package var written: (writeBacks: UInt64, batches: Int) { condition.withLock { (completed, batches) } }

    private func writeLoop() {
        condition.lock()
        while true {
            while pending.isEmpty, !ending {
                heartbeat?.beat(.idle)
                _ = condition.wait(untilMonotonicNanos: MonotonicCondition.deadline(afterSeconds: 1))
            }
            if pending.isEmpty { break }
            let deadline = oldestAtNanos + lingerNanos
            while pending.count < batchLimit, flushTarget <= completed, !ending,
                Timestamp.monotonicNanos() < deadline
            {
                _ = condition.wait(untilMonotonicNanos: deadline)
            }
            let batch = Array(pending.prefix(batchLimit))
            pending.removeFirst(batch.count)
            if !pending.isEmpty { oldestAtNanos = Timestamp.monotonicNanos() }
            condition.unlock()
            heartbeat?.beat(.working)
            let failed = write(batch)
            heartbeat?.beat(.idle)
            condition.lock()
            completed += UInt64(batch.count)
            batches += 1
            condition.broadcast()  // flushers, and submitters held at the cap
            if failed {
                // The rest ends early for `finish`: what is pending is written (or fails) at once then.
                let rest = Timestamp.monotonicNanos() + 1_000_000_000
                while !ending, Timestamp.monotonicNanos() < rest {
                    _ = condition.wait(untilMonotonicNanos: rest)
                    heartbeat?.beat(.idle)
                }
            }
        }
        running = false
        heartbeat?.beat(.stopped)
        condition.broadcast()
        condition.unlock()
    }

    /// One transaction for the batch; each entry's completion in order. True when any write failed.
    private func write(_ batch: [Entry]) -> Bool {
        final class Slot { var changed = false }
        let slots = batch.map { _ in Slot() }
        let bodies: [(Database) throws -> Void] = zip(batch, slots).map { entry, slot in
            { db in slot.changed = try entry.body(db) }
        }
        var errors: [(any Error)?]
        do {
            errors = try store.withDatabase { db in try GroupCommit.write(bodies, db) }
        } catch {
            errors = Array(repeating: error, count: batch.count)
        }
        for index in batch.indices {
            if let error = errors[index] {
                batch[index].completion(.failure(error))
            } else {
                batch[index].completion(.success(slots[index].changed))
            }
        }
        return errors.contains { $0 != nil }
    }
}
