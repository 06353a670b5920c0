import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem

/// What the gauges read beside the job table, and nothing else: the metrics file and `GET /metrics` take this,
/// not the pool's whole set of dependencies.
package struct GaugeSource: Sendable {
    package var store: JobStore
    package var pause: PauseGate
    package var concurrency: ConcurrencyLimiter
    package var budget: any RequestBudget
    package var metrics: PipelineMetrics
    package var writeBehind: WriteBehind

    package init(_ upload: JobProcessor.Dependencies) {
        self.store = upload.store
        self.pause = upload.pause
        self.concurrency = upload.concurrency
        self.budget = upload.budget
        self.metrics = upload.metrics
        self.writeBehind = upload.writeBehind
    }
}

extension MetricsWriter {
    /// The exposition of the running daemon right now, queue gauges read from the job table: the one path behind
    /// both the textfile and `GET /metrics`, so the two can never disagree on names, labels or help.
    package static func current(_ gauges: GaugeSource, up: Bool = true) -> String? {
        let store = gauges.store
        guard let queue = try? store.snapshot(failureLimit: 0) else { return nil }
        let oldest = queue.oldestWaitingCreatedAt.flatMap(Timestamp.parseISO8601).map {
            Int((Timestamp.nowMillis() - $0) / 1000)
        }
        var readings = GaugeReadings(
            queue: queue, oldestWaitingSeconds: oldest, pause: gauges.pause.metricReason, up: up,
            concurrency: gauges.concurrency.snapshot())
        // The table is readable (the snapshot above was read): a failure of these reads leaves a figure out, not the page.
        readings.webhooks = try? store.webhookBacklog()
        readings.lastSuccessSeconds = (try? store.lastSuccessAt()).flatMap(Timestamp.parseISO8601).map {
            Double($0) / 1000
        }
        readings.budgetRemaining = gauges.budget.remaining()
        readings.writerWaiting = gauges.writeBehind.waiting
        readings.fleet = (gauges.budget as? FleetBudget)?.figures()
        readings.process = ProcessStats.current()
        return gauges.metrics.exposition(readings)
    }
}
