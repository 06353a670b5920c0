import Metrics
import Synchronization

/// The gauges whose truth is the job table (and the pause gate), not an event stream: set right before each
/// emit, so the figures survive restarts and match `status`.
final class QueueGauges: Sendable {
    private let registry: MetricsRegistry
    private let up: Metrics.Gauge
    private let paused: Metrics.Gauge
    private let oldestWaiting: Metrics.Gauge
    private let jobs: [JobState: Metrics.Gauge]
    /// Also the emit lock: setting the gauges and rendering happen as one step, so a scrape can never publish
    /// another emit's half-set figures (nor a `1` over the clean stop's `up 0`).
    private let perSource = Mutex<[String: [JobState: Metrics.Gauge]]>([:])

    init(registry: MetricsRegistry) {
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

    func emit(metrics: PipelineMetrics, queue: QueueSnapshot, oldestWaitingSeconds: Int?, paused: Bool, up: Bool) -> String {
        perSource.withLock { perSource in
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
    public func exposition(queue: QueueSnapshot, oldestWaitingSeconds: Int?, paused: Bool, up: Bool = true) -> String {
        queueGauges.emit(metrics: self, queue: queue, oldestWaitingSeconds: oldestWaitingSeconds, paused: paused, up: up)
    }
}
