import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import Logging

/// The main thread of `imagedrop run`, and the owner of what the daemon runs: it starts the components
/// (`DaemonComponents`), then, between READY=1 and the stop, waits for signals (at most a second, so it keeps
/// beating), applies a SIGHUP's reload, watches the database file's identity, records the heartbeat and the status
/// line, hands the fleet its figures, pings the watchdog while every component is alive, and for `--once` decides
/// when the run is complete; then it stops the components in reverse (`stop`). Each turn is one call of `turn`;
/// what ends the loop is its `End`.
final class MainLoop {
    struct End {
        /// The SIGTERM/SIGINT that asked for the stop (nil: `--once` finished, or a fatal condition).
        var signal: Int32?
        /// The run must exit with this code (the database file changed under the daemon).
        var fatal: Daemon.Exit?
        /// `--once` stopped early: the queue is paused and a one-off run does not wait.
        var onceFailure: Daemon.Exit?
    }

    let running: Daemon.Running
    let components: DaemonComponents
    let once: Bool
    let notifier: SystemdNotifier
    let logger: Logger
    private let reload: Reload
    private let mainBeat: Heartbeat
    private var watchdog: WatchdogPinger?
    private var completion = OnceCompletion()
    private var lastBeat: UInt64 = 0
    /// When `--once` off a terminal last logged its progress.
    private var lastProgressLog: UInt64
    private(set) var throughput = Throughput()

    init(running: Daemon.Running, options: Daemon.Options, notifier: SystemdNotifier, logger: Logger) {
        self.running = running
        self.components = DaemonComponents(running, logger: logger)
        self.once = options.once
        self.notifier = notifier
        self.logger = logger
        self.reload = Reload(
            options: options, notifier: notifier, logger: logger, shared: running.shared, upload: running.upload,
            pool: components.pool, watcher: running.watcher, folderLocks: running.locks.folders)
        self.mainBeat = running.heartbeats.heartbeat("main")
        self.watchdog = WatchdogPinger(notifier: notifier)
        self.lastProgressLog = Timestamp.monotonicNanos()
    }

    /// `run --once` from cron or a pipe has no status line to watch: the same line is logged every 10 s instead,
    /// so a long backlog shows it is moving (and how fast) in the job's log.
    static let progressLogNanos: UInt64 = 10_000_000_000

    /// Starts the components in order; one that fails stops those already started and the error goes on.
    func start() throws { try components.list.start() }

    func run() -> End {
        while true {
            if let end = turn() { return end }
        }
    }

    /// One turn; nil to go on.
    private func turn() -> End? {
        let upload = running.upload
        mainBeat.beat(.turning)
        switch Signals.wait(timeoutSeconds: once ? 0.2 : 1) {
        case .terminate(let signal): return End(signal: signal)
        case .reload: reload()
        case nil: break
        }
        mainBeat.beat(.turning)
        OperatorPauseFollower.follow(
            store: upload.store, pause: upload.pause, workSignal: upload.workSignal, logger: logger)
        if let problem = running.locks.database.identity?.change() {
            logger.error(
                "database file changed under the running daemon; exiting so it restarts on the file now at that path",
                metadata: ["problem": "\(problem)", "exit": "\(Daemon.Exit.transient.rawValue)"])
            return End(fatal: .transient)
        }
        let now = Timestamp.monotonicNanos()
        let watcherProgress = running.watcher.progress  // before the counts: see OnceCompletion
        let counts = try? running.store.counts()
        let metrics = upload.metrics.snapshot
        throughput.record(
            atNanos: now, finished: metrics.doneUploaded + metrics.doneAlreadyStored + metrics.failed,
            bytes: metrics.uploadedBytes)
        report(counts, now: now)
        watchdog?.tick(
            nowNanos: now, pulses: running.heartbeats.pulses,
            rule: Liveness.Rule(requestTimeoutSeconds: Double(running.shared.current.upload.requestTimeoutSeconds)),
            notifier: notifier, logger: logger)
        guard once else { return nil }
        if let counts,
            completion.isComplete(
                queueDrained: isDrained(counts), watcher: watcherProgress, nudge: running.watcher)
        {
            return End()
        }
        if let reason = upload.pause.reason {
            // A one-off run cannot wait for someone to fix the token: say why and stop (jobs stay queued).
            logger.error("stopping --once run: queue paused", metadata: ["reason": "\(reason)"])
            return End(onceFailure: .unavailable)
        }
        return nil
    }

    /// The status line where it is read: the heartbeat in the table (with the fleet's figures), systemd's
    /// STATUS=, the terminal's progress line, and `--once`'s log off a terminal.
    private func report(_ counts: [JobState: Int]?, now: UInt64) {
        let upload = running.upload
        let store = running.store
        let text = running.text
        // `status` reads a heartbeat older than 3 intervals as "not responding": the interval is the one it knows.
        if now - lastBeat >= UInt64(DaemonRecord.heartbeatIntervalSeconds) * 1_000_000_000 || once {
            lastBeat = now
            let (line, eta) = text.progress(counts, rate: throughput.rate)
            running.databaseHealth.recordWrite(
                Result {
                    try store.recordHeartbeat(
                        statusLine: line, unwatchedFolders: running.watcher.unwatchedFolders,
                        concurrencyJSON: upload.concurrency.snapshot().json)
                    try store.recordBacklogETA(eta)
                    if let fleet = upload.budget as? FleetBudget {
                        try store.recordFleetDegraded(fleet.degradedReason)
                        let lastMinute = (try? store.snapshot(failureLimit: 0))?.uploadsLastMinute ?? 0
                        components.fleetHeartbeat?.publish(
                            FleetHostReport(
                                counts: counts ?? [:], uploadsLastMinute: lastMinute,
                                paused: upload.pause.reason, version: ImagedropVersion.current))
                    }
                }.failure)
            notifier.status(line)
            running.progress?.show(line)
        } else if let progress = running.progress {
            progress.show(text.line(counts, rate: throughput.rate))
        }
        if once, running.progress == nil, now - lastProgressLog >= Self.progressLogNanos {
            lastProgressLog = now
            logger.info("progress", metadata: ["status": "\(text.line(counts, rate: throughput.rate))"])
        }
    }

    /// Whether `--once` has nothing left to send: no job waits that a worker may take, and every worker is idle.
    private func isDrained(_ counts: [JobState: Int]) -> Bool {
        let upload = running.upload
        if upload.pause.isPaused { return false }
        // Jobs of a source the config does not name are never taken: a one-off run does not wait for them.
        let sources = SourceCounts(
            counts: (try? upload.store.sourceCounts()) ?? [:], configured: upload.config.current.sourceNames)
        let stranded = sources.unconfigured.map(sources.waiting).reduce(0, +)
        let waiting = (counts[.queued] ?? 0) + (counts[.uploading] ?? 0) + (counts[.retrying] ?? 0) - stranded
        return waiting <= 0 && components.pool.allIdle
    }
}

@available(*, unavailable)
extension MainLoop: Sendable {}
