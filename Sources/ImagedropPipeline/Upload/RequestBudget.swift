import ImagedropParsing
import ImagedropStore

/// What the workers, the API client and the daemon's status need of the request budget (`requests_per_5min`):
/// a grant before each request that counts, a fleet-wide stop after a 429, and figures for `status`.
///
/// `RateLimiter` is this host's own, seeded from the ledger; `FleetBudget` takes its grants from Redis, shared by
/// every host of the fleet. The workers hold only this protocol, so either plugs in without them knowing.
package protocol RequestBudget: AnyObject, Sendable {
    /// Blocks until a request may be sent, and returns the grant's ticket (for `obey(_:answering:)`); nil,
    /// without a grant, when `shouldStop` turns true.
    func acquireTicket(shouldStop: () -> Bool) -> BudgetTicket?
    /// The reply to the request granted with `ticket` carried a `Ratelimit` header: no more than
    /// `header.remaining` requests granted after that one within the next `header.resetSeconds` (ServerCaps).
    func obey(_ header: RateLimitHeader, answering ticket: BudgetTicket)
    /// A 429 was seen: nobody sends again before `millis` from now (callers pass the capped Retry-After).
    func block(forMillis millis: Int64)
    /// How long `requests` requests sent one after the other would wait now, without taking a grant.
    func waitMillis(requests: Int) -> Int64
    /// Why the next request waits, for `status` and the progress line; nil when one could go now.
    func currentWait() -> BudgetWait?
    /// Room in the window now and the sustained rate, for the backlog's ETA; nil when unlimited.
    func headroom() -> BacklogETA.Budget?
    /// Requests still allowed in the current window (`imagedrop_budget_remaining`); nil when unlimited or not
    /// known on this host.
    func remaining() -> Int?
    /// A stopping daemon gives back grants it recorded and will not use.
    func returnUnusedReservation()
    /// A reload changed `requests_per_5min` or `rate_window_s`; what was already spent stays spent.
    func update(limit: Int, windowSeconds: Double)
}

extension RequestBudget {
    package func waitMillis() -> Int64 { waitMillis(requests: 1) }

    /// Blocks until a request may be sent. Returns false, without a grant, when `shouldStop` turns true.
    package func acquire(shouldStop: () -> Bool) -> Bool { acquireTicket(shouldStop: shouldStop) != nil }
}

/// Which grant a request was sent under: its number in the budget's sequence (the RateLimiter's own, or the
/// fleet's in Redis), so a reply's `Ratelimit` header can count the grants made after it.
package struct BudgetTicket: Sendable, Equatable {
    package var sequence: UInt64
    /// Numbered by the fleet's Redis (true) or by this host's own limiter.
    package var shared: Bool

    package init(sequence: UInt64, shared: Bool) {
        self.sequence = sequence
        self.shared = shared
    }
}

/// What a wait for the next request is made of, for `status` and the progress line.
package struct BudgetWait: Sendable, Equatable {
    /// Requests granted within the current window (this host's, or the fleet's).
    package var used: Int
    package var limit: Int
    package var windowSeconds: Int
    /// Until the next request may go.
    package var nextMillis: Int64
    /// A 429 (or its Retry-After) blocks the whole pool, budget or not.
    package var blockedByServer: Bool

    package init(used: Int, limit: Int, windowSeconds: Int, nextMillis: Int64, blockedByServer: Bool) {
        self.used = used
        self.limit = limit
        self.windowSeconds = windowSeconds
        self.nextMillis = nextMillis
        self.blockedByServer = blockedByServer
    }

    package var text: String {
        let next = (nextMillis + 999) / 1000
        if blockedByServer { return "waiting: the API asked to slow down (429); next request in \(next) s" }
        return
            "waiting for budget: \(used) requests in the last \(windowSeconds) s (upload.requests_per_5min = \(limit)), next slot in \(next) s"
    }
}
