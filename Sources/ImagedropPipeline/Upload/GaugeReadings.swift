import ImagedropStore
import ImagedropSystem

/// What the gauges show at one emit, read by the caller from where each figure's truth is (the job table, the
/// pause gate, the rate limiter, /proc): `PipelineMetrics.exposition` only records and renders them.
package struct GaugeReadings: Sendable {
    package var queue: QueueSnapshot
    package var oldestWaitingSeconds: Int?
    /// Why the queue is paused; nil while it is not.
    package var pause: PauseGate.MetricReason?
    /// false for the last write on a clean stop, so a dashboard shows "stopped" rather than the last figures of
    /// a daemon that looks alive.
    package var up = true
    package var concurrency: ConcurrencyLimiter.Snapshot?
    /// The webhook outbox (nil: no outbox table, so no series).
    package var webhooks: WebhookBacklog?
    /// Requests left in the current budget window; nil when the budget is unlimited (no series).
    package var budgetRemaining: Int?
    /// The fleet as this host sees it (nil without `[fleet]`: no `imagedrop_fleet_*` series).
    package var fleet: FleetFigures?
    /// `done` write-backs handed to the writer and not written yet (`WriteBehind.waiting`).
    package var writerWaiting = 0
    /// Unix seconds when a job last ended done; nil (shown as 0) when none ever did.
    package var lastSuccessSeconds: Double?
    package var process = ProcessStats()

    package init(
        queue: QueueSnapshot, oldestWaitingSeconds: Int? = nil, pause: PauseGate.MetricReason? = nil, up: Bool = true,
        concurrency: ConcurrencyLimiter.Snapshot? = nil
    ) {
        self.queue = queue
        self.oldestWaitingSeconds = oldestWaitingSeconds
        self.pause = pause
        self.up = up
        self.concurrency = concurrency
    }
}
