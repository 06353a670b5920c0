import ImagedropSupport
import Metrics
import Synchronization

/// `imagedrop_fleet_*`: present only on a host with `[fleet]` (created at its first emit), so a lone host's
/// exposition is unchanged. The totals are FleetBudget's own counts, carried into counters by their increase.
package final class FleetGauges: Sendable {
    private struct Families {
        var hosts: [String: Metrics.Gauge]
        var degraded: Metrics.Gauge
        var grants: Metrics.Counter
        var waits: [String: Metrics.Counter]
        var degradedSeconds: Metrics.Counter
        var reported = (grants: UInt64(0), waits: [String: UInt64](), degradedSeconds: UInt64(0))
    }

    private let registry: MetricsRegistry
    private let families = Mutex<Families?>(nil)

    package init(registry: MetricsRegistry) { self.registry = registry }

    package func record(_ figures: FleetFigures?) {
        guard let figures else { return }
        families.withLock { families in
            var current = families ?? make()
            defer { families = current }
            let view = figures.view?.hostsByState ?? FleetView.states.map { ($0, 0) }
            for (state, count) in view { current.hosts[state]?.record(count) }
            current.degraded.record(figures.degradedReason == nil ? 0 : 1)
            if figures.grants > current.reported.grants {
                current.grants.increment(by: Int64(clamping: figures.grants - current.reported.grants))
                current.reported.grants = figures.grants
            }
            for (reason, count) in figures.waits where count > current.reported.waits[reason, default: 0] {
                current.waits[reason]?.increment(
                    by: Int64(clamping: count - current.reported.waits[reason, default: 0]))
                current.reported.waits[reason] = count
            }
            let seconds = UInt64(max(figures.degradedSeconds, 0))
            if seconds > current.reported.degradedSeconds {
                current.degradedSeconds.increment(by: Int64(clamping: seconds - current.reported.degradedSeconds))
                current.reported.degradedSeconds = seconds
            }
        }
    }

    private func make() -> Families {
        Families(
            hosts: Dictionary(
                uniqueKeysWithValues: FleetView.states.map { state in
                    (
                        state,
                        registry.gauge(
                            "imagedrop_fleet_hosts", [("state", state)],
                            help:
                                "Hosts of the fleet seen in the last 24 h by state (running, paused, degraded, offline), as Redis holds their heartbeats."
                        )
                    )
                }),
            degraded: registry.gauge(
                "imagedrop_fleet_degraded",
                help: "1 while this host cannot use Redis and sends alone at its safe share of the fleet's budget."),
            grants: registry.counter(
                "imagedrop_fleet_budget_grants_total",
                help: "Requests the fleet's budget in Redis granted to this host."),
            waits: Dictionary(
                uniqueKeysWithValues: FleetBudget.waitReasons.map { reason in
                    (
                        reason,
                        registry.counter(
                            "imagedrop_fleet_budget_waits_total", [("reason", reason)],
                            help:
                                "Grants this host was refused and had to wait for, by reason (budget, blocked by a 429, paused, capped by the API's Ratelimit header)."
                        )
                    )
                }),
            degradedSeconds: registry.counter(
                "imagedrop_fleet_degraded_seconds_total",
                help: "Seconds this host spent degraded (Redis unreachable or slow), sending alone."))
    }
}
