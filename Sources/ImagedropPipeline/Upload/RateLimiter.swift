import Glibc
import ImagedropParsing
import ImagedropStore
import ImagedropSupport
import Synchronization

/// The account's request budget (`requests_per_5min`), shared by every worker and every kind of request.
///
/// A sliding-window log rather than a token bucket: Cloudflare counts requests in a rolling window, and a
/// bucket's burst on top of its rate can exceed such a window and earn a five-minute block. Each grant
/// records its time; the next is allowed once the grant `limit` places back is older than the window plus
/// a small margin (for the time a request takes to reach the API). A 429 stops every worker until the
/// wait the API asked for (or the policy's) has passed.
///
/// With a RequestLedger the budget survives restarts: the limiter starts from the requests the log holds
/// for the last window, and records grants (in reservations) before it hands them out. Grant times here
/// are monotonic; the log's are wall-clock seconds, converted once at start-up, so a clock step while
/// running changes nothing and a clock step between runs can delay the budget by one window at most.
package final class RateLimiter: RequestBudget {
    package typealias Wait = BudgetWait

    private struct State {
        var limit: Int
        var windowNanos: UInt64
        var grants: [UInt64]  // ring of monotonic grant times, `limit` long; 0 = free
        var next = 0
        var blockedUntil: UInt64 = 0
        /// Grants already recorded in the ledger and not yet handed out, valid until `reservedUntil`.
        var reservedLeft = 0
        var reservedUntil: UInt64 = 0
        var reservedSecond: Int64?
        /// Grants made so far (the last one's number), and the API's `Ratelimit` caps on the next ones.
        var sequence: UInt64 = 0
        var caps = ServerCaps()
    }

    private let state: Mutex<State>
    private let ledger: RequestLedger?
    package let marginNanos: UInt64

    /// `limit` requests per `windowSeconds`; 0 means unlimited. With a `ledger`, the requests it recorded
    /// in the last window count from the start (`nowMono`/`nowWallMillis` are the clocks; tests set them).
    package init(
        limit: Int, windowSeconds: Double = 300, ledger: RequestLedger? = nil,
        nowMono: UInt64 = Timestamp.monotonicNanos(), nowWallMillis: Int64 = Timestamp.nowMillis()
    ) {
        let window = Self.nanos(seconds: windowSeconds)
        // 1% of the window, at least 20 ms and at most 3 s: covers a request's way to the API (it is counted
        // on arrival) and clock granularity. The floor was 100 ms, which held a batch token's 200 per second
        // to 182/s — a tenth of its budget given away for jitter that a kept-alive connection does not have.
        marginNanos = min(max(window / 100, 20_000_000), 3_000_000_000)
        self.ledger = ledger
        var initial = State(limit: limit, windowNanos: window, grants: Array(repeating: 0, count: max(limit, 0)))
        if let ledger, limit > 0 {
            let windowSeconds = Int64(window / 1_000_000_000)
            let rows = ledger.recent(windowSeconds: windowSeconds, nowSecond: Self.floorSecond(nowWallMillis))
            Self.seed(&initial, rows: rows, nowMono: nowMono, nowWallMillis: nowWallMillis)
        }
        // A 429's block outlives the process that saw it: a restart inside the Retry-After still waits.
        if let ledger {
            let left = ledger.blockRemainingMillis(nowMillis: nowWallMillis)
            if left > 0 { initial.blockedUntil = nowMono &+ UInt64(left) * 1_000_000 }
        }
        state = Mutex(initial)
    }

    package convenience init(requestsPer5Min: Int) { self.init(limit: requestsPer5Min, windowSeconds: 300) }

    /// Window lengths come from config (bounded there); the clamp keeps any other caller from trapping.
    private static func nanos(seconds: Double) -> UInt64 {
        guard seconds.isFinite, seconds > 0 else { return 0 }
        return UInt64(min(seconds, 1e9) * 1e9)
    }

    private static func floorSecond(_ millis: Int64) -> Int64 {
        millis >= 0 ? millis / 1000 : (millis - 999) / 1000
    }

    /// Fills the ring with the logged requests, oldest first, newest `limit` kept. A row's second is a time
    /// no request it counts came after, so dating the grants there errs towards waiting longer.
    private static func seed(
        _ state: inout State, rows: [(second: Int64, count: Int)], nowMono: UInt64,
        nowWallMillis: Int64
    ) {
        var times: [UInt64] = []
        for row in rows {
            // The ledger returns rows within a window of now (future ones capped), so this cannot overflow;
            // the clamps below only keep a bad row from trapping.
            let ageMillis = nowWallMillis - min(max(row.second, -1 << 40), 1 << 40) * 1000
            let windowMillis = Int64(state.windowNanos / 1_000_000)
            guard ageMillis <= windowMillis else { continue }  // already out of the window
            let time: UInt64
            if ageMillis <= 0 {
                // Dated ahead (the reservation in use when the last process stopped): at most a window ahead.
                time = nowMono + min(UInt64(min(-ageMillis, windowMillis)) * 1_000_000, state.windowNanos)
            } else {
                // Older than boot (logged before a reboot) yet inside the window: the earliest time there is.
                let ageNanos = UInt64(ageMillis) * 1_000_000
                time = ageNanos >= nowMono ? 1 : nowMono - ageNanos
            }
            times.append(contentsOf: repeatElement(max(time, 1), count: min(max(row.count, 0), state.limit)))
            if times.count > state.limit * 2 { times.removeFirst(times.count - state.limit) }
        }
        for time in times.suffix(state.limit) {
            state.grants[state.next] = time
            state.next = (state.next + 1) % state.limit
        }
    }

    /// Counts a whole window as spent, its grants spread evenly over the last `window` up to `now`: the next grant
    /// comes one `window / limit` (plus the margin) from now and the rest at that pace, with no burst. For a
    /// fleet host that loses Redis: what the fleet sent in the last window is unknown, and a fallback that
    /// started empty would add its whole share at once on top of it (the soak's `--hosts` run saw 102 of 100 in
    /// a window 1.3 s after a Redis kill). Spread this way, the fleet's GCRA traffic before the outage and the
    /// fallbacks' smooth share after it never fill a window beyond the budget (FleetBudget.Parameters).
    package func assumeWindowSpent(now: UInt64 = Timestamp.monotonicNanos()) {
        state.withLock { state in
            guard state.limit > 0 else { return }
            let step = state.windowNanos / UInt64(state.limit)
            let start = now &- min(state.windowNanos, now &- 1)
            for index in 0..<state.limit {
                state.grants[(state.next + index) % state.limit] = max(start &+ step &* UInt64(index + 1), 1)
            }
        }
    }

    /// Changes the budget (SIGHUP reload) while keeping what was already spent.
    package func update(limit: Int, windowSeconds: Double = 300) {
        state.withLock { state in
            let window = Self.nanos(seconds: windowSeconds)
            guard limit != state.limit || window != state.windowNanos else { return }
            let recent = (0..<state.grants.count).map { state.grants[($0 + state.next) % max(state.grants.count, 1)] }
            state.limit = limit
            state.windowNanos = window
            state.grants = Array(repeating: 0, count: max(limit, 0))
            state.next = 0
            for time in recent.suffix(max(limit, 0)) where time > 0 {
                state.grants[state.next] = time
                state.next = (state.next + 1) % state.grants.count
            }
        }
    }

    /// How long a request would wait now, without taking a grant (for `check`, which would rather say so
    /// than sit silently in an ExecStartPre).
    /// `requests` is how many the caller is about to send one after the other.
    package func waitMillis(requests: Int, now: UInt64) -> Int64 {
        state.withLock { state in
            var until = state.blockedUntil
            let capWait = state.caps.wait(next: state.sequence &+ UInt64(max(requests, 1)), now: now)
            if capWait > 0 { until = max(until, now &+ capWait) }
            if state.limit > 0 {
                // More than the whole budget can never be free at once: the wait for the first `limit` then.
                for offset in 0..<min(max(requests, 1), state.limit) {
                    let time = state.grants[(state.next + offset) % state.limit]
                    if time != 0 { until = max(until, time &+ state.windowNanos &+ marginNanos) }
                }
            }
            return now < until ? Int64(clamping: (until - now + 999_999) / 1_000_000) : 0
        }
    }

    /// nil when a request could go now.
    package func currentWait(now: UInt64) -> Wait? {
        let wait = waitMillis(requests: 1, now: now)
        guard wait > 0 else { return nil }
        return state.withLock { state in
            let used = state.grants.filter { $0 != 0 && $0 &+ state.windowNanos > now }.count
            return Wait(
                used: used, limit: state.limit, windowSeconds: Int(state.windowNanos / 1_000_000_000), nextMillis: wait,
                blockedByServer: now < state.blockedUntil)
        }
    }

    /// Grants that still hold a slot: handed out less than a window (plus the margin) ago — what `tryAcquire`
    /// waits on, so the figures below agree with it.
    private func usedSlots(_ state: State, now: UInt64) -> Int {
        state.grants.filter { $0 != 0 && $0 &+ state.windowNanos &+ marginNanos > now }.count
    }

    /// Requests the budget still allows within the current window (`imagedrop_budget_remaining`): the limit less
    /// the grants still holding a slot, restored ones of an earlier process included. nil when the budget is
    /// unlimited. A 429's block is not subtracted: it is the API's wait, shown by the log and `status`.
    package func remaining(now: UInt64) -> Int? {
        state.withLock { state in
            let capped = state.caps.remaining(granted: state.sequence, now: now)
            guard state.limit > 0 else { return capped }
            return min(max(0, state.limit - usedSlots(state, now: now)), capped ?? .max)
        }
    }

    /// What the backlog's ETA needs of the budget: requests the window has room for now, and its sustained rate
    /// (`limit` per window). nil when unlimited.
    package func headroom(now: UInt64) -> BacklogETA.Budget? {
        state.withLock { state in
            guard state.limit > 0, state.windowNanos > 0 else { return nil }
            let blocked = now < state.blockedUntil
            return BacklogETA.Budget(
                free: blocked ? 0 : max(0, state.limit - usedSlots(state, now: now)),
                perSecond: Double(state.limit) / (Double(state.windowNanos) / 1e9))
        }
    }

    /// How long the caller must wait before it may send (0: a grant was recorded and it may send now).
    package func tryAcquire(
        now: UInt64 = Timestamp.monotonicNanos(), wallMillis: Int64 = Timestamp.nowMillis()
    ) -> UInt64 {
        tryGrant(now: now, wallMillis: wallMillis).wait
    }

    /// `tryAcquire`, with the grant's number when it granted.
    package func tryGrant(
        now: UInt64 = Timestamp.monotonicNanos(), wallMillis: Int64 = Timestamp.nowMillis()
    )
        -> (wait: UInt64, sequence: UInt64)
    {
        state.withLock { state in
            if now < state.blockedUntil { return (state.blockedUntil - now, 0) }
            let capWait = state.caps.wait(next: state.sequence &+ 1, now: now)
            if capWait > 0 { return (capWait, 0) }
            guard state.limit > 0 else {
                state.sequence &+= 1
                return (0, state.sequence)
            }
            let oldest = state.grants[state.next]
            let freeAt = oldest == 0 ? 0 : oldest &+ state.windowNanos &+ marginNanos
            if now < freeAt { return (freeAt - now, 0) }
            if let ledger, state.reservedLeft == 0 || now >= state.reservedUntil {
                guard reserve(&state, ledger: ledger, now: now, wallMillis: wallMillis) else {
                    return (1_000_000_000, 0)
                }
            }
            if ledger != nil { state.reservedLeft -= 1 }
            state.grants[state.next] = now
            state.next = (state.next + 1) % state.limit
            state.sequence &+= 1
            return (0, state.sequence)
        }
    }

    /// Records the next batch of grants in the ledger before any of them is handed out: as many as the
    /// window has room for right now (at most the batch size), dated at the end of the lease.
    private func reserve(_ state: inout State, ledger: RequestLedger, now: UInt64, wallMillis: Int64) -> Bool {
        let windowSeconds = Int64(state.windowNanos / 1_000_000_000)
        let lease = RequestLedger.leaseSeconds(windowSeconds: windowSeconds)
        var free = 0
        let wanted = RequestLedger.batchSize(limit: state.limit)
        for offset in 0..<state.limit where free < wanted {
            let time = state.grants[(state.next + offset) % state.limit]
            if time == 0 || now >= time &+ state.windowNanos &+ marginNanos { free += 1 } else { break }
        }
        let second = Self.floorSecond(wallMillis) + lease + 1
        guard
            ledger.reserve(
                max(free, 1), atSecond: second, returning: state.reservedLeft, ofSecond: state.reservedSecond,
                windowSeconds: windowSeconds)
        else { return false }
        state.reservedLeft = max(free, 1)
        state.reservedUntil = now &+ UInt64(lease) * 1_000_000_000
        state.reservedSecond = second
        return true
    }

    /// Gives the unused rest of the current reservation back to the ledger (a stopping daemon: it will not
    /// send again, so the next start should not count those slots).
    package func returnUnusedReservation(wallMillis: Int64) {
        state.withLock { state in
            guard let ledger, state.reservedLeft > 0, let second = state.reservedSecond else { return }
            let windowSeconds = Int64(state.windowNanos / 1_000_000_000)
            if ledger.reserve(
                0, atSecond: second, returning: state.reservedLeft, ofSecond: second, windowSeconds: windowSeconds)
            {
                state.reservedLeft = 0
            }
        }
    }

    /// Blocks until a request may be sent. Returns false, without a grant, when `shouldStop` turns true.
    package func acquire(shouldStop: () -> Bool) -> Bool { acquireTicket(shouldStop: shouldStop) != nil }

    package func acquireTicket(shouldStop: () -> Bool) -> BudgetTicket? {
        while true {
            if shouldStop() { return nil }
            let (wait, sequence) = tryGrant()
            if wait == 0 { return BudgetTicket(sequence: sequence, shared: false) }
            // Sleep in slices so a stopping daemon is not held by a long wait.
            let slice = min(wait, 50_000_000)
            var request = timespec(tv_sec: Int(slice / 1_000_000_000), tv_nsec: Int(slice % 1_000_000_000))
            nanosleep(&request, nil)
        }
    }

    /// A 429 was seen: nobody sends again before `millis` from now. Saturating: any value is safe here,
    /// though callers pass waits already capped by the RetryPolicy.
    package func block(forMillis millis: Int64) {
        let nanos = UInt64(clamping: max(millis, 0)).multipliedReportingOverflow(by: 1_000_000)
        let (until, overflow) = Timestamp.monotonicNanos().addingReportingOverflow(
            nanos.overflow ? UInt64.max : nanos.partialValue)
        state.withLock { state in state.blockedUntil = max(state.blockedUntil, overflow ? UInt64.max : until) }
        if let ledger, millis > 0 {
            let length = min(millis, Int64(1) << 40)
            ledger.recordBlock(untilMillis: Timestamp.nowMillis() + length, lengthMillis: length)
        }
    }

    /// The API's `Ratelimit` header on the reply to grant `ticket` (ServerCaps); `now` is when it arrived.
    package func obey(_ header: RateLimitHeader, answering ticket: BudgetTicket, now: UInt64) {
        state.withLock { state in
            // A ticket of another numbering (the fleet's, reaching a degraded host's fallback) counts from here.
            let sequence = ticket.shared ? state.sequence : min(ticket.sequence, state.sequence)
            state.caps.add(
                answering: sequence, remaining: header.remaining,
                resetNanos: UInt64(header.resetSeconds) * 1_000_000_000, now: now)
        }
    }

    package func obey(_ header: RateLimitHeader, answering ticket: BudgetTicket) {
        obey(header, answering: ticket, now: Timestamp.monotonicNanos())
    }

    package var blockedRemainingMillis: Int64 {
        let now = Timestamp.monotonicNanos()
        return state.withLock { state in
            state.blockedUntil > now ? Int64(clamping: (state.blockedUntil - now) / 1_000_000) : 0
        }
    }
}

/// The protocol's clockless forms: the daemon asks about now; tests call the forms above with their own clock.
extension RateLimiter {
    package func waitMillis(requests: Int) -> Int64 { waitMillis(requests: requests, now: Timestamp.monotonicNanos()) }
    package func currentWait() -> BudgetWait? { currentWait(now: Timestamp.monotonicNanos()) }
    package func headroom() -> BacklogETA.Budget? { headroom(now: Timestamp.monotonicNanos()) }
    package func remaining() -> Int? { remaining(now: Timestamp.monotonicNanos()) }
    package func returnUnusedReservation() { returnUnusedReservation(wallMillis: Timestamp.nowMillis()) }
}
