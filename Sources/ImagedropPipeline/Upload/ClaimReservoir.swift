import ImagedropStore
import Synchronization

/// Claims in batches for the worker pool: when a worker or the preparer needs a job and none is held here, one
/// statement takes up to `batch` (`JobStore.claim(leaseMillis:upTo:)`), hands out the first and keeps the rest for
/// the next takers. A claim was one transaction per upload, each writing the same four pages again; a batch of
/// four writes them once (docs/benchmarks.md, issue 25's sixth round).
///
/// What waits here is held `uploading` with nothing sent, like a prepared job, so it is kept few (`batchSize`),
/// and given back to the queue whenever the pool stops taking work: a pause, a spent budget, a stop
/// (`releaseAll`). Takers wait on one lock while a batch is claimed: they would have waited on the table's
/// writer anyway, and they find their job in the batch instead of writing a claim of their own.
package final class ClaimReservoir: Sendable {
    private let held = Mutex<[Job]>([])

    package init() {}

    /// How many one claim may take with `workers` at work: half of them, at most eight; one — no batching,
    /// nothing held — for fewer than eight workers, where a claim seldom finds another taker queued behind it.
    package static func batchSize(workers: Int) -> Int {
        workers < 8 ? 1 : min(8, workers / 2)
    }

    /// Jobs claimed and not handed out yet.
    package var count: Int { held.withLock { $0.count } }

    /// The oldest held job, or a fresh claim of up to `batch` whose first is returned. Nil when nothing is ready.
    package func take(batch: Int, claim: (Int) throws -> [Job]) throws -> Job? {
        try held.withLock { held in
            if !held.isEmpty { return held.removeFirst() }
            var claimed = try claim(max(1, batch))
            guard !claimed.isEmpty else { return nil }
            let first = claimed.removeFirst()
            held = claimed
            return first
        }
    }

    /// Everything held, removed: the caller gives it back to the queue.
    package func takeAll() -> [Job] {
        held.withLock { held in
            let all = held
            held.removeAll()
            return all
        }
    }
}
