import ImagedropStore
import Logging
import Synchronization

/// The request budget's durable half: what this and earlier processes sent in the current window, kept
/// in `request_log` so a restarted daemon (or `check` just before it) does not start with an empty
/// limiter and burst into a 429.
///
/// Writes are batched as reservations: before granting, the limiter records a batch of grants it may
/// make in the next `leaseSeconds`, dated at the end of that lease (a time no grant of the batch comes
/// after). A crash can therefore only over-count — unused slots of the last reservation, and every grant
/// dated a little later than it was sent — never under-count. The next reservation gives back the unused
/// rest of the previous one, so a daemon that sends slowly does not inflate the log either.
package final class RequestLedger: Sendable {
    package let store: JobStore
    private let logger: Logger?
    private let lastProblem = Mutex<String?>(nil)

    package init(store: JobStore, logger: Logger? = nil) {
        self.store = store
        self.logger = logger
    }

    /// How long one reservation may be used, and how many grants it holds, for a budget.
    package static func leaseSeconds(windowSeconds: Int64) -> Int64 { min(max(1, windowSeconds / 60), 10) }
    package static func batchSize(limit: Int) -> Int { min(max(1, limit / 60), 50) }

    /// Per-second counts from the last window, oldest first, with future-dated rows capped at
    /// `nowSecond + lease + 1` (the latest a live reservation can be dated). Empty when unreadable.
    package func recent(windowSeconds: Int64, nowSecond: Int64) -> [(second: Int64, count: Int)] {
        let latest = nowSecond + Self.leaseSeconds(windowSeconds: windowSeconds) + 1
        do {
            let rows = try store.requestCounts(since: nowSecond - windowSeconds - 1, latest: latest)
            noteSuccess()
            return rows
        } catch {
            note("could not read the request log; the budget starts empty", error)
            return []
        }
    }

    /// Records a reservation. False when it could not be written: the caller then must not send.
    package func reserve(
        _ count: Int, atSecond second: Int64, returning unused: Int, ofSecond previous: Int64?,
        windowSeconds: Int64
    ) -> Bool {
        do {
            try store.recordRequests(
                count, atSecond: second, returning: unused, ofSecond: previous,
                pruneBefore: second - windowSeconds - Self.leaseSeconds(windowSeconds: windowSeconds) - 2)
            noteSuccess()
            return true
        } catch {
            note("could not record API requests in the request log; not sending until it can", error)
            return false
        }
    }

    /// A 429's block, kept for the next start: until `untilMillis` (wall clock), `lengthMillis` long.
    package func recordBlock(untilMillis: Int64, lengthMillis: Int64) {
        do {
            try store.recordAPIBlock(untilMillis: untilMillis, lengthMillis: lengthMillis)
            noteSuccess()
        } catch {
            note("could not record the API's block in the database; a restart inside it would not know it", error)
        }
    }

    /// How much of a recorded block is left at `nowMillis`: at most its length (a clock set back since cannot
    /// stretch it), 0 when it ended or none was recorded.
    package func blockRemainingMillis(nowMillis: Int64) -> Int64 {
        do {
            guard let block = try store.apiBlock() else { return 0 }
            noteSuccess()
            return min(max(block.untilMillis - nowMillis, 0), max(block.lengthMillis, 0))
        } catch {
            note("could not read the API's block from the database", error)
            return 0
        }
    }

    /// Once per distinct problem, not once per request.
    private func note(_ message: Logger.Message, _ error: Error) {
        let text = "\(error)"
        let changed = lastProblem.withLock { last in
            defer { last = text }
            return last != text
        }
        if changed { logger?.error(message, metadata: ["error": "\(text)"]) }
    }

    private func noteSuccess() {
        let recovered = lastProblem.withLock { last in
            defer { last = nil }
            return last != nil
        }
        if recovered { logger?.notice("request log writable again") }
    }
}
