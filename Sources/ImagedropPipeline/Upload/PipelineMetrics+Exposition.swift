import ImagedropStore
import Metrics
import Synchronization

/// The gauges whose truth is the job table (and the pause gate, the rate limiter, /proc), not an event stream:
/// set right before each emit, so the figures survive restarts and match `status`.
package final class QueueGauges: Sendable {
    private let registry: MetricsRegistry
    private let up: Metrics.Gauge
    /// One series per reason, as `imagedrop_concurrency_bound` has per bound: 1 for the reason in force, so the
    /// family's sum is 1 while paused and 0 otherwise (what the unlabelled series said before).
    private let paused: [PauseGate.MetricReason: Metrics.Gauge]
    private let oldestWaiting: Metrics.Gauge
    private let lastSuccess: Metrics.Gauge
    private let writerWaiting: Metrics.Gauge
    private let webhookDeliveries = Mutex<[String: Metrics.Gauge]?>(nil)
    /// Only while the budget is limited: "unlimited" has no number, and a made-up one would read as a budget.
    private let budgetRemaining = Mutex<Metrics.Gauge?>(nil)
    private let process: ProcessGauges
    private let jobs: [JobState: Metrics.Gauge]
    /// Also the emit lock: setting the gauges and rendering happen as one step, so a scrape can never publish
    /// another emit's half-set figures (nor a `1` over the clean stop's `up 0`).
    private let perSource = Mutex<[String: [JobState: Metrics.Gauge]]>([:])
    private let concurrencyMax: Metrics.Gauge
    private let concurrencyInFlight: Metrics.Gauge
    private let concurrencyBound: [AdaptiveConcurrency.Bound: Metrics.Gauge]
    /// One series for the mode in force (`auto` or `fixed`); a reload that switches mode drops the other.
    private let concurrencyLimit = Mutex<(mode: AdaptiveConcurrency.Mode, gauge: Metrics.Gauge)?>(nil)
    private let fleet: FleetGauges

    package init(registry: MetricsRegistry) {
        self.registry = registry
        fleet = FleetGauges(registry: registry)
        up = registry.gauge("imagedrop_up", help: "1 while the daemon runs; 0 after a clean stop.")
        var paused: [PauseGate.MetricReason: Metrics.Gauge] = [:]
        for reason in PauseGate.MetricReason.allCases {
            paused[reason] = registry.gauge(
                "imagedrop_paused", [("reason", reason.rawValue)],
                help:
                    "1 for the reason the queue is paused (credentials, unreachable, quota, operator); all 0 while it is not."
            )
        }
        self.paused = paused
        writerWaiting = registry.gauge(
            "imagedrop_write_behind_waiting",
            help: "Uploads answered whose done row waits for the writer thread (at its cap the workers wait too).")
        oldestWaiting = registry.gauge(
            "imagedrop_oldest_waiting_seconds",
            help: "Age of the oldest queued or retrying job; 0 when nothing waits.")
        lastSuccess = registry.gauge(
            "imagedrop_last_success_timestamp_seconds",
            help:
                "Unix time when a job last ended done (from the job table, pruned history included); 0 if none ever did."
        )
        process = ProcessGauges(registry: registry)
        var jobs: [JobState: Metrics.Gauge] = [:]
        for state in JobState.allCases {
            jobs[state] = registry.gauge(
                "imagedrop_jobs", [("state", state.rawValue)], help: "Jobs in the table by state.")
        }
        self.jobs = jobs
        concurrencyMax = registry.gauge(
            "imagedrop_concurrency_max", help: "The most uploads in flight allowed (workers or max_workers).")
        concurrencyInFlight = registry.gauge("imagedrop_concurrency_in_flight", help: "Uploads in flight now.")
        var bound: [AdaptiveConcurrency.Bound: Metrics.Gauge] = [:]
        for value in AdaptiveConcurrency.Bound.allCases {
            bound[value] = registry.gauge(
                "imagedrop_concurrency_bound", [("bound", value.rawValue)],
                help:
                    "1 for what holds the concurrency where it is (budget, latency, backoff, fixed, idle, max_workers)."
            )
        }
        concurrencyBound = bound
    }

    /// The upload concurrency as the limiter holds it now (what `status` shows as `workers:`).
    private func record(_ concurrency: ConcurrencyLimiter.Snapshot) {
        concurrencyLimit.withLock { limit in
            if limit?.mode != concurrency.mode {
                limit?.gauge.destroy()
                limit = (
                    concurrency.mode,
                    registry.gauge(
                        "imagedrop_concurrency_limit", [("mode", concurrency.mode.rawValue)],
                        help: "Uploads allowed in flight now (upload.workers, or what \"auto\" chose).")
                )
            }
            limit?.gauge.record(concurrency.current)
        }
        concurrencyMax.record(concurrency.maximum)
        concurrencyInFlight.record(concurrency.inFlight)
        for (value, gauge) in concurrencyBound { gauge.record(value == concurrency.bound ? 1 : 0) }
    }

    /// Per source as their own families: the unlabelled totals keep their meaning for existing dashboards, and
    /// `sum()` over these gives the same numbers. A source removed by a reload loses its series.
    private func sourceGauges(_ source: String) -> [JobState: Metrics.Gauge] {
        var gauges: [JobState: Metrics.Gauge] = [:]
        for state in JobState.allCases {
            gauges[state] = registry.gauge(
                "imagedrop_source_jobs", [("source", source), ("state", state.rawValue)],
                help: "Jobs in the table by source and state.")
        }
        return gauges
    }

    /// The outbox's rows by state; the family appears with the outbox table.
    private func record(webhooks: WebhookBacklog?) {
        guard let webhooks else { return }
        webhookDeliveries.withLock { gauges in
            if gauges == nil {
                gauges = Dictionary(
                    uniqueKeysWithValues: ["pending", "dead"].map { state in
                        (
                            state,
                            registry.gauge(
                                "imagedrop_webhook_deliveries", [("state", state)],
                                help:
                                    "Webhook deliveries in the outbox: pending (to be sent or retried) and dead (gave up)."
                            )
                        )
                    })
            }
            gauges?["pending"]?.record(webhooks.pending)
            gauges?["dead"]?.record(webhooks.dead)
        }
    }

    private func record(budgetRemaining remaining: Int?) {
        budgetRemaining.withLock { gauge in
            guard let remaining else {
                gauge?.destroy()
                gauge = nil
                return
            }
            if gauge == nil {
                gauge = registry.gauge(
                    "imagedrop_budget_remaining",
                    help: "API requests the budget (upload.requests_per_5min) still allows in its current window.")
            }
            gauge?.record(remaining)
        }
    }

    package func emit(metrics: PipelineMetrics, readings: GaugeReadings) -> String {
        let queue = readings.queue
        return perSource.withLock { perSource in
            if let concurrency = readings.concurrency { record(concurrency) }
            self.up.record(readings.up ? 1 : 0)
            for (reason, gauge) in paused { gauge.record(reason == readings.pause ? 1 : 0) }
            oldestWaiting.record(readings.oldestWaitingSeconds ?? 0)
            writerWaiting.record(readings.writerWaiting)
            lastSuccess.record(readings.lastSuccessSeconds ?? 0)
            record(webhooks: readings.webhooks)
            record(budgetRemaining: readings.budgetRemaining)
            fleet.record(readings.fleet)
            process.record(readings.process)
            for state in JobState.allCases { jobs[state]?.record(queue.counts[state] ?? 0) }
            for (source, gauges) in perSource where queue.sourceCounts[source] == nil {
                for gauge in gauges.values { gauge.destroy() }
                perSource[source] = nil
            }
            for (source, counts) in queue.sourceCounts {
                let gauges = perSource[source] ?? sourceGauges(source)
                perSource[source] = gauges
                for state in JobState.allCases { gauges[state]?.record(counts[state] ?? 0) }
                // Every configured source has its uploads series (0 before its first upload).
                _ = metrics.sourceUploads(source)
            }
            return registry.render()
        }
    }
}

extension PipelineMetrics {
    /// The exposition of the daemon right now: the one renderer behind both the textfile and `GET /metrics`.
    package func exposition(_ readings: GaugeReadings) -> String {
        queueGauges.emit(metrics: self, readings: readings)
    }
}
