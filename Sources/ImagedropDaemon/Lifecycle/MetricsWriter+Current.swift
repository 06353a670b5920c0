import ImagedropSystem
import ImagedropStore
import ImagedropPipeline
import ImagedropSupport

extension MetricsWriter {
    /// The exposition of the running daemon right now, queue gauges read from the job table: the one path behind
    /// both the textfile and `GET /metrics`, so the two can never disagree on names, labels or help.
    package static func current(services: UploadServices, up: Bool = true) -> String? {
        guard let queue = try? services.store.snapshot(failureLimit: 0) else { return nil }
        let oldest = queue.oldestWaitingCreatedAt.flatMap(Timestamp.parseISO8601).map { Int((Timestamp.nowMillis() - $0) / 1000) }
        return services.metrics.exposition(queue: queue, oldestWaitingSeconds: oldest, paused: services.pause.isPaused, up: up,
                                           concurrency: services.concurrency.snapshot())
    }
}
