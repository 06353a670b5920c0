import ImagedropSystem
import ImagedropPipeline
import ImagedropSupport
import ImagedropStore

extension MetricsWriter {
    /// The exposition of the running daemon right now, queue gauges read from the job table: the one path behind
    /// both the textfile and `GET /metrics`, so the two can never disagree on names, labels or help.
    package static func current(services: UploadServices, up: Bool = true) -> String? {
        let store = services.store
        guard let queue = try? store.snapshot(failureLimit: 0) else { return nil }
        let oldest = queue.oldestWaitingCreatedAt.flatMap(Timestamp.parseISO8601).map { Int((Timestamp.nowMillis() - $0) / 1000) }
        var readings = GaugeReadings(queue: queue, oldestWaitingSeconds: oldest, pause: services.pause.metricReason, up: up,
                                     concurrency: services.concurrency.snapshot())
        // The table is readable (the snapshot above was read): a failure of these reads leaves a figure out, not the page.
        readings.webhooks = try? store.webhookBacklog()
        readings.lastSuccessSeconds = (try? store.lastSuccessAt()).flatMap(Timestamp.parseISO8601).map { Double($0) / 1000 }
        readings.budgetRemaining = services.limiter.remaining()
        readings.fleet = (services.limiter as? FleetBudget)?.figures()
        readings.process = ProcessStats.current()
        return services.metrics.exposition(readings)
    }
}
