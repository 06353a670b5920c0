import ImagedropStore
import Synchronization

/// Claims in batches for the worker pool: when a worker or the preparer needs a job and none is held here, one
/// statement takes up to `batch` (`JobStore.claim(leaseMillis:upTo:)`), hands out the first and keeps the rest for
/// the next takers. A claim was one transaction per upload, each writing the same four pages again; a batch of
/// four writes them once (docs/benchmarks.md, issue 25's sixth round).
///
/// What waits here is held `uploading` with nothing sent, like a prepared job, so it is kept few (`batchSize`),
/// and given back to the queue whenever the pool stops taking work: a pause, a spent budget, a stop
/// (`returnClaimed`).
package final class ClaimReservoir: Sendable {
    private struct State {
        var jobs: [Job] = []
        /// Jobs asked for by batch claims under way.
        var claiming = 0
    }

    private let state = Mutex(State())

    package init() {}

    /// How many one claim may take with `workers` at work: half of them, at most eight; one — no batching,
    /// nothing held — for fewer than eight workers, where a claim seldom finds another taker queued behind it.
    package static func batchSize(workers: Int) -> Int {
        workers < 8 ? 1 : min(8, workers / 2)
    }

    /// Jobs claimed and not handed out yet.
    package var count: Int { state.withLock { $0.jobs.count } }

    /// The oldest held job, or a fresh claim whose first job is returned: of up to `batch` while the batches
    /// under way ask for fewer than `cap` jobs in all, else of one. Nil when nothing is ready. No lock is held
    /// while claiming: takers that waited for one batch to land ran 10 % slower than before batching, and
    /// takers that claim a batch each while the reservoir is empty spend the fewest statements (the sixth
    /// round); `cap` bounds what they hold together.
    package func take(batch: Int, cap: Int, claim: (Int) throws -> [Job]) throws -> Job? {
        let (held, asked) = state.withLock { state -> (Job?, Int) in
            if !state.jobs.isEmpty { return (state.jobs.removeFirst(), 0) }
            guard batch > 1, state.claiming + batch <= max(cap, batch) else { return (nil, 1) }
            state.claiming += batch
            return (nil, batch)
        }
        if let held { return held }
        defer { if asked > 1 { state.withLock { $0.claiming -= asked } } }
        var claimed = try claim(asked)
        guard !claimed.isEmpty else { return nil }
        let first = claimed.removeFirst()
        if !claimed.isEmpty { state.withLock { $0.jobs.append(contentsOf: claimed) } }
        return first
    }

    /// Everything held, removed: the caller gives it back to the queue.
    package func takeAll() -> [Job] {
        state.withLock { state in
            let all = state.jobs
            state.jobs.removeAll()
            return all
        }
    }
}
