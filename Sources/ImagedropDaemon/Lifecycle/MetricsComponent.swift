import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import Logging

/// The metrics file (`[metrics] textfile`) on a thread of its own: written at start, every `interval_s` (both
/// read again after a reload), and a last time with `imagedrop_up 0` when it is stopped — after the workers
/// ended and their jobs went back to the queue (the job table's component stops just before it), so the last
/// file shows the queue as the next start will find it.
final class MetricsComponent: Component, Sendable {
    let name = "metrics writer"
    private let gauges: GaugeSource
    private let config: SharedConfig
    private let heartbeat: Heartbeat
    private let logger: Logger
    private let stopAsked = Latch()
    private let done = Latch()

    init(_ gauges: GaugeSource, config: SharedConfig, heartbeat: Heartbeat, logger: Logger) {
        self.gauges = gauges
        self.config = config
        self.heartbeat = heartbeat
        self.logger = logger
    }

    func start() {
        OSThread.start(name: "imagedrop-metrics") { [self] in
            run()
            done.countDown()
        }
    }

    func beginStop() { stopAsked.countDown() }
    func wait(deadline: UInt64) -> Bool { done.wait(seconds: Components.seconds(until: deadline)) }
    var stopPatienceSeconds: Double { 5 }

    private func run() {
        var lastWrite: UInt64?
        repeat {
            heartbeat.beat(.turning)
            let now = Timestamp.monotonicNanos()
            let current = config.current
            if lastWrite.map({ now - $0 >= UInt64(current.metrics.intervalSeconds) * 1_000_000_000 }) ?? true {
                lastWrite = now
                write(current, up: true)
            }
        } while !stopAsked.wait(seconds: 1)
        write(config.current, up: false)
        heartbeat.beat(.stopped)
    }

    /// The full snapshot (range counts included) is read only when a metrics file is configured.
    private func write(_ config: Config, up: Bool) {
        guard let path = config.metrics.textfile, let text = MetricsWriter.current(gauges, up: up) else { return }
        do {
            try MetricsWriter(path: path).write(text: text)
        } catch {
            logger.warning("cannot write metrics file", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }
}
