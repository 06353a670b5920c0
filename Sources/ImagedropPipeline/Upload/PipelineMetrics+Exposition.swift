import ImagedropSupport
import ImagedropSystem
import ImagedropStore
import Metrics
import Synchronization

/// The gauges whose truth is the job table (and the pause gate), not an event stream: set right before each
/// emit, so the figures survive restarts and match `status`.
package final class QueueGauges: Sendable {
    private let registry: MetricsRegistry
    private let up: Metrics.Gauge
    private let paused: Metrics.Gauge
    private let oldestWaiting: Metrics.Gauge
    private let jobs: [JobState: Metrics.Gauge]
    /// Also the emit lock: setting the gauges and rendering happen as one step, so a scrape can never publish
    /// another emit's half-set figures (nor a `1` over the clean stop's `up 0`).
    private let perSource = Mutex<[String: [JobState: Metrics.Gauge]]>([:])
    private let concurrencyMax: Metrics.Gauge
    private let concurrencyInFlight: Metrics.Gauge
    private let concurrencyBound: [AdaptiveConcurrency.Bound: Metrics.Gauge]
    /// One series for the mode in force (`auto` or `fixed`); a reload that switches mode drops the other.
    private let concurrencyLimit = Mutex<(mode: AdaptiveConcurrency.Mode, gauge: Metrics.Gauge)?>(nil)

    package init(registry: MetricsRegistry) {
        self.registry = registry
        up = registry.gauge("imagedrop_up", help: "1 while the daemon runs; 0 after a clean stop.")
        paused = registry.gauge("imagedrop_paused", help: "1 while the queue is paused (e.g. the API refused the token).")
        oldestWaiting = registry.gauge("imagedrop_oldest_waiting_seconds",
                                       help: "Age of the oldest queued or retrying job; 0 when nothing waits.")
        var jobs: [JobState: Metrics.Gauge] = [:]
        for state in JobState.allCases {
            jobs[state] = registry.gauge("imagedrop_jobs", [("state", state.rawValue)], help: "Jobs in the table by state.")
        }
        self.jobs = jobs
        concurrencyMax = registry.gauge("imagedrop_concurrency_max", help: "The most uploads in flight allowed (workers or max_workers).")
        concurrencyInFlight = registry.gauge("imagedrop_concurrency_in_flight", help: "Uploads in flight now.")
        var bound: [AdaptiveConcurrency.Bound: Metrics.Gauge] = [:]
        for value in AdaptiveConcurrency.Bound.allCases {
            bound[value] = registry.gauge("imagedrop_concurrency_bound", [("bound", value.rawValue)],
                                          help: "1 for what holds the concurrency where it is (budget, latency, backoff, fixed, idle, max_workers).")
        }
        concurrencyBound = bound
    }

    /// The upload concurrency as the limiter holds it now (what `status` shows as `workers:`).
    private func record(_ concurrency: ConcurrencyLimiter.Snapshot) {
        concurrencyLimit.withLock { limit in
            if limit?.mode != concurrency.mode {
                limit?.gauge.destroy()
                limit = (concurrency.mode, registry.gauge("imagedrop_concurrency_limit", [("mode", concurrency.mode.rawValue)],
                                                          help: "Uploads allowed in flight now (upload.workers, or what \"auto\" chose)."))
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
            gauges[state] = registry.gauge("imagedrop_source_jobs", [("source", source), ("state", state.rawValue)],
                                           help: "Jobs in the table by source and state.")
        }
        return gauges
    }

    package func emit(metrics: PipelineMetrics, queue: QueueSnapshot, oldestWaitingSeconds: Int?, paused: Bool, up: Bool,
                      concurrency: ConcurrencyLimiter.Snapshot?) -> String {
        perSource.withLock { perSource in
            if let concurrency { record(concurrency) }
            self.up.record(up ? 1 : 0)
            self.paused.record(paused ? 1 : 0)
            oldestWaiting.record(oldestWaitingSeconds ?? 0)
            for state in JobState.allCases { jobs[state]?.record(queue.counts[state] ?? 0) }
            for (source, gauges) in perSource where queue.sourceCounts[source] == nil {
                gauges.values.forEach { $0.destroy() }
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
    /// `up: false` is for the last write on a clean stop, so a dashboard shows "stopped" rather than the last
    /// figures of a daemon that looks alive.
    public func exposition(queue: QueueSnapshot, oldestWaitingSeconds: Int?, paused: Bool, up: Bool = true,
                           concurrency: ConcurrencyLimiter.Snapshot? = nil) -> String {
        queueGauges.emit(metrics: self, queue: queue, oldestWaitingSeconds: oldestWaitingSeconds, paused: paused, up: up,
                         concurrency: concurrency)
    }
}
