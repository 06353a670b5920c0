import ImagedropSupport
import ImagedropSystem

/// The host's heartbeat in Redis (`FleetBudget.beat`) on a thread of its own, a component of the daemon: the main
/// loop hands over its latest figures (no Redis call there), this thread writes them every few seconds from the
/// first report on, and ends when the daemon stops. It is stopped after the workers, so the fleet sees the host
/// through its grace period; afterwards its last beat ages out and `fleet status` calls it offline. The beat also
/// brings a degraded host back: an idle host takes no grants, and would otherwise stay "degraded" long after Redis
/// answers again.
package final class FleetHeartbeat: @unchecked Sendable {
    // @unchecked: `report` and `stopping` are only read and written with `condition` locked.
    private let budget: FleetBudget
    private let condition = MonotonicCondition()
    private var report: FleetHostReport?
    private var stopping = false
    private let done = Latch()

    package init(_ budget: FleetBudget) { self.budget = budget }

    /// The figures the next beat writes. The first report wakes the thread, so the host shows up at once.
    package func publish(_ report: FleetHostReport) {
        condition.withLock {
            if self.report == nil { condition.broadcast() }
            self.report = report
        }
    }

    package func start() {
        OSThread.start(name: "fleet-heartbeat") { [self] in
            run()
            done.countDown()
        }
    }

    package func beginStop() {
        condition.withLock {
            stopping = true
            condition.broadcast()
        }
    }

    package func waitForExit(seconds: Double) -> Bool { done.wait(seconds: seconds) }

    private func run() {
        let interval = UInt64(FleetBudget.beatIntervalSeconds) * 1_000_000_000
        var lastBeat: UInt64?
        var nextLook: UInt64 = 0
        while let report = nextReport(notBefore: nextLook) {
            let now = Timestamp.monotonicNanos()
            // A block this host learnt while Redis was away reaches the others only when it next talks to Redis,
            // and an idle host asks no grant: while it holds one, it tries every second, not every beat.
            if lastBeat.map({ now >= $0 + interval }) ?? true || budget.holdsUnsharedBlock {
                budget.beat(report)
                lastBeat = now
            }
            nextLook = now + 1_000_000_000
        }
    }

    /// Waits for a report and for `notBefore`; nil once the daemon stops.
    private func nextReport(notBefore: UInt64) -> FleetHostReport? {
        condition.lock()
        defer { condition.unlock() }
        while !stopping {
            if let report, Timestamp.monotonicNanos() >= notBefore { return report }
            _ = condition.wait(
                untilMonotonicNanos: report == nil ? MonotonicCondition.deadline(afterSeconds: 60) : notBefore)
        }
        return nil
    }
}
