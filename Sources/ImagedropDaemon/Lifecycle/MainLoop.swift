import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import Logging

/// The main thread between READY=1 and the stop: it waits for signals (at most a second, so it keeps
/// beating), watches the database file's identity, records the heartbeat and the status line, writes the
/// metrics file, pings the watchdog while every component is alive, and for `--once` decides when the run is
/// complete. Each turn is one call of `turn`; what ends the loop is its `End`.
struct MainLoop {
    struct End {
        /// The SIGTERM/SIGINT that asked for the stop (nil: `--once` finished, or a fatal condition).
        var signal: Int32?
        /// The run must exit with this code (the database file changed under the daemon).
        var fatal: Daemon.Exit?
        /// `--once` stopped early: the queue is paused and a one-off run does not wait.
        var onceFailure: Daemon.Exit?
    }

    let running: Daemon.Running
    let once: Bool
    let notifier: SystemdNotifier
    private let mainBeat: Heartbeat
    private var watchdog: WatchdogPinger?
    private var completion = OnceCompletion()
    private var lastBeat: UInt64 = 0
    private var lastMetrics: UInt64 = 0
    /// When `--once` off a terminal last logged its progress.
    private var lastProgressLog: UInt64
    private(set) var throughput = Throughput()

    init(running: Daemon.Running, once: Bool, notifier: SystemdNotifier) {
        self.running = running
        self.once = once
        self.notifier = notifier
        self.mainBeat = running.heartbeats.heartbeat("main")
        self.watchdog = WatchdogPinger(notifier: notifier)
        self.lastProgressLog = Timestamp.monotonicNanos()
    }

    /// `run --once` from cron or a pipe has no status line to watch: the same line is logged every 10 s instead,
    /// so a long backlog shows it is moving (and how fast) in the job's log.
    static let progressLogNanos: UInt64 = 10_000_000_000

    mutating func run(daemon: Daemon) -> End {
        while true {
            if let end = turn(daemon: daemon) { return end }
        }
    }

    /// One turn; nil to go on.
    private mutating func turn(daemon: Daemon) -> End? {
        let upload = running.upload
        let store = running.store
        mainBeat.beat(.turning)
        switch Signals.wait(timeoutSeconds: once ? 0.2 : 1) {
        case .terminate(let signal): return End(signal: signal)
        case .reload: daemon.reload(running)
        case nil: break
        }
        mainBeat.beat(.turning)
        OperatorPauseFollower.follow(
            store: upload.store, pause: upload.pause, workSignal: upload.workSignal, logger: daemon.logger)
        if let problem = running.locks.database.identity?.change() {
            daemon.logger.error(
                "database file changed under the running daemon; exiting so it restarts on the file now at that path",
                metadata: ["problem": "\(problem)", "exit": "\(Daemon.Exit.transient.rawValue)"])
            return End(fatal: .transient)
        }
        let now = Timestamp.monotonicNanos()
        let watcherProgress = running.watcher.progress  // before the counts: see OnceCompletion
        let counts = try? store.counts()
        let metrics = upload.metrics.snapshot
        throughput.record(
            atNanos: now, finished: metrics.doneUploaded + metrics.doneAlreadyStored + metrics.failed,
            bytes: metrics.uploadedBytes)
        // `status` reads a heartbeat older than 3 intervals as "not responding": the interval is the one it knows.
        if now - lastBeat >= UInt64(DaemonRecord.heartbeatIntervalSeconds) * 1_000_000_000 || once {
            lastBeat = now
            let (line, eta) = daemon.progress(counts, upload: upload, watcher: running.watcher, rate: throughput.rate)
            running.databaseHealth.recordWrite(
                Result {
                    try store.recordHeartbeat(
                        statusLine: line, unwatchedFolders: running.watcher.unwatchedFolders,
                        concurrencyJSON: upload.concurrency.snapshot().json)
                    try store.recordBacklogETA(eta)
                    if let fleet = upload.budget as? FleetBudget {
                        try store.recordFleetDegraded(fleet.degradedReason)
                        let lastMinute = (try? store.snapshot(failureLimit: 0))?.uploadsLastMinute ?? 0
                        fleet.publish(
                            FleetHostReport(
                                counts: counts ?? [:], uploadsLastMinute: lastMinute,
                                paused: upload.pause.reason, version: ImagedropVersion.current))
                    }
                }.failure)
            notifier.status(line)
            running.progress?.show(line)
        } else if let progress = running.progress {
            progress.show(daemon.statusLine(counts, upload: upload, watcher: running.watcher, rate: throughput.rate))
        }
        if once, running.progress == nil, now - lastProgressLog >= Self.progressLogNanos {
            lastProgressLog = now
            daemon.logger.info(
                "progress",
                metadata: [
                    "status":
                        "\(daemon.statusLine(counts, upload: upload, watcher: running.watcher, rate: throughput.rate))"
                ])
        }
        let current = running.shared.current
        if now - lastMetrics >= UInt64(current.metrics.intervalSeconds) * 1_000_000_000 {
            lastMetrics = now
            daemon.writeMetrics(running)
        }
        watchdog?.tick(
            nowNanos: now, pulses: running.heartbeats.pulses,
            rule: Liveness.Rule(requestTimeoutSeconds: Double(current.upload.requestTimeoutSeconds)),
            notifier: notifier, logger: daemon.logger)
        guard once else { return nil }
        if let counts,
            completion.isComplete(
                queueDrained: daemon.isDrained(counts, running: running),
                watcher: watcherProgress, nudge: running.watcher)
        {
            return End()
        }
        if let reason = upload.pause.reason {
            // A one-off run cannot wait for someone to fix the token: say why and stop (jobs stay queued).
            daemon.logger.error("stopping --once run: queue paused", metadata: ["reason": "\(reason)"])
            return End(onceFailure: .unavailable)
        }
        return nil
    }
}
