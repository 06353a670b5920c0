import ImagedropParsing
import ImagedropSystem

/// What stands around each request of the Images client, passed with every call by the thread that makes it:
/// before the request, the budget's grant (waited for in slices that beat the thread's heartbeat, and given up when
/// the daemon stops or the operator pauses the queue); while it runs, the cancellation libcurl polls (the grace
/// period over, or a second SIGTERM); after it, Cloudflare's `Ratelimit` header back to the budget. The client
/// holds none of this: it sends and returns replies, and the waits belong to the pool's threads and the commands.
package struct RequestAdmission: Sendable {
    package let budget: any RequestBudget
    private let shutdown: ShutdownState?
    private let pause: PauseGate?
    private let heartbeat: Heartbeat?

    /// A pool thread's (a worker, the preparer, the prober): `heartbeat` is its own, beaten in every slice of a
    /// budget wait and before each request, so the watchdog sees a budget wait as alive and bounds a request by
    /// its timeout. The daemon's stop and the operator's pause end a wait: the job goes back to the queue unsent.
    package init(budget: any RequestBudget, shutdown: ShutdownState, pause: PauseGate, heartbeat: Heartbeat?) {
        self.budget = budget
        self.shutdown = shutdown
        self.pause = pause
        self.heartbeat = heartbeat
    }

    /// A command's (`check`, `reconcile`): it waits for the budget as long as that takes and is never cut short
    /// (Ctrl-C ends the process).
    package init(budget: any RequestBudget) {
        self.budget = budget
        self.shutdown = nil
        self.pause = nil
        self.heartbeat = nil
    }

    /// The go-ahead for one request, with the budget's ticket when it counts against the budget.
    package struct Grant {
        let ticket: BudgetTicket?
    }

    /// Blocks until one request may be sent; nil gives it up. `counted` false (the batch host has its own budget,
    /// waited for by the worker): no grant is taken, only the heartbeat marks the request.
    func admit(counted: Bool) -> Grant? {
        var ticket: BudgetTicket?
        if counted {
            let (heartbeat, shutdown, pause) = (self.heartbeat, self.shutdown, self.pause)
            ticket = budget.acquireTicket(shouldStop: {
                heartbeat?.beat(.waitingForBudget)
                return shutdown?.isStopping == true || pause?.isPausedByOperator == true
            })
            guard ticket != nil else { return nil }
        }
        heartbeat?.beat(.working)
        return Grant(ticket: ticket)
    }

    /// What cuts the request short once sent: the grace period over, or a second SIGTERM/SIGINT.
    var cancellation: Cancellation {
        guard let shutdown else { return .never }
        return Cancellation { shutdown.isAborting }
    }

    /// Cloudflare's own word on the budget wins over the configured one (batch-host replies speak of the batch
    /// token's budget, not the account's: those requests hold no ticket).
    func heard(_ response: HTTPResponse, after grant: Grant) {
        if let ticket = grant.ticket, let value = response.headers["ratelimit"],
            let header = RateLimitHeader.parse(value)
        {
            budget.obey(header, answering: ticket)
        }
    }
}
