/// One ETA for the backlog, wherever it is shown (`status --json` `throughput.eta_s`, the progress line, the
/// status page): the running daemon computes it from whichever constraint binds and records it with its
/// heartbeat. The measured rate alone misleads exactly when it matters: a fresh window lets the first
/// `requests_per_5min` uploads go at full speed, after which the budget's sustained rate is the pace — a
/// 10,000-file backlog that started at 50 files/s is hours away, not minutes.
package enum BacklogETA {
    /// The request budget, while uploads take from it (not through batch tokens).
    package struct Budget: Sendable, Equatable {
        /// Requests the window has room for right now (0 while a 429 blocks the pool).
        package var free: Int
        /// Its sustained rate: `requests_per_5min / rate_window_s`.
        package var perSecond: Double

        package init(free: Int, perSecond: Double) {
            self.free = free
            self.perSecond = perSecond
        }
    }

    package struct Constraints: Sendable, Equatable {
        /// Jobs finished per second over the last minute (nil until a rate is known).
        package var measuredPerSecond: Double?
        package var budget: Budget?
        /// The batch token's own rate, while uploads go through it (200/s).
        package var batchPerSecond: Double?

        package init(measuredPerSecond: Double?, budget: Budget?, batchPerSecond: Double?) {
            self.measuredPerSecond = measuredPerSecond
            self.budget = budget
            self.batchPerSecond = batchPerSecond
        }
    }

    /// Seconds until `waiting` jobs are through; nil while paused (nothing moves until someone acts) or when
    /// nothing says how fast they will go. Each constraint is a lower bound (one request per upload at least);
    /// the binding one is the largest. With no measured rate yet, only a budget the backlog outgrows says
    /// anything: then its sustained rate is the pace.
    package static func seconds(waiting: Int, paused: Bool, _ constraints: Constraints) -> Int? {
        guard !paused else { return nil }
        guard waiting > 0 else { return 0 }
        let budgetBound = constraints.budget.flatMap { budget -> Double? in
            guard budget.perSecond > 0 else { return nil }
            return Double(max(0, waiting - budget.free)) / budget.perSecond
        }
        var bounds: [Double] = []
        if let measured = constraints.measuredPerSecond, measured > 0 {
            bounds.append(Double(waiting) / measured)
            if let batch = constraints.batchPerSecond, batch > 0 { bounds.append(Double(waiting) / batch) }
            if let budgetBound { bounds.append(budgetBound) }
        } else if let budgetBound, budgetBound > 0 {
            bounds.append(budgetBound)
        }
        guard let binding = bounds.max(), binding < Double(Int.max / 2) else { return nil }
        return Int(binding.rounded(.up))
    }
}
