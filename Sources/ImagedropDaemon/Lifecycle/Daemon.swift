import FoundationEssentials
import Glibc
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import Logging

/// `imagedrop run`: wires watcher, queue and workers together, keeps the heartbeat and the systemd
/// conversation, and stops in order — stop taking work, let in-flight uploads finish within the grace
/// period, cut the rest and put their jobs back in the queue, record the stop.
package final class Daemon {
    package struct Options: Sendable {
        package var configPath: String
        package var once = false
        /// Draw the status line on stderr when it is a terminal (`TerminalStatusLine`); never elsewhere.
        package var progress = false
        package var environment: [String: String] = ProcessInfo.processInfo.environment
        /// Applies `[log] level` after a reload (the log handler lives in the executable's bootstrap).
        package var onLogLevelChange: @Sendable (Logger.Level) -> Void = { _ in }
        /// `run --once --include/--exclude`: laid over every load of the config file, the start's and reloads'.
        package var patterns: PatternOverride?
        package init(configPath: String) { self.configPath = configPath }
    }

    /// 74 (EX_IOERR): a failure that passes on its own (the database stayed locked by another process or could
    /// not be written for the start-up patience; the database file was deleted or replaced under the running
    /// daemon); the unit restarts it, unlike 75 and 78. 77 (EX_NOPERM): the database or its folder may not be
    /// written by this user. 23 (rsync's "partial transfer"): `run --once` finished, but jobs of the run failed.
    /// 130 and 143 (128 + the signal, as a shell reports a process the signal killed): `run --once` stopped by
    /// SIGINT or SIGTERM before its backlog was through, so a script or cron job does not take it for a complete
    /// run. `status --check`'s own codes are `StatusReport.Health`.
    package enum Exit: Int32, Sendable {
        case ok = 0
        case partial = 23
        case usage = 64
        case noInput = 65
        case unavailable = 69
        case transient = 74
        case alreadyRunning = 75
        case
            noPermission = 77
        case config = 78
        case interrupted = 130
        case terminated = 143
    }

    let options: Options
    package var logger: Logger
    let notifier: SystemdNotifier

    package init(options: Options, logger: Logger) {
        self.options = options
        self.logger = logger
        self.notifier = SystemdNotifier(environment: options.environment)
    }

    package func run() -> Exit {
        let running: Running
        switch start() {
        case .failure(let failure): return failure.exit
        case .success(let started): running = started
        }
        // The flocks live as long as their descriptors: keep them until run() returns.
        defer { withExtendedLifetime(running.locks) {} }
        var loop = MainLoop(running: running, once: options.once, notifier: notifier)
        let end = loop.run(daemon: self)
        return stop(running, end: end, throughput: loop.throughput)
    }

    /// The stop after the loop: the stop line, the ordered shutdown, the HTTP endpoint last (it answers
    /// /healthz until the end), then `--once`'s summary and exit code.
    private func stop(_ running: Running, end: MainLoop.End, throughput: Throughput) -> Exit {
        let upload = running.upload
        // The last state stays on screen as an ordinary line; what follows (the stop, the summary) prints below it.
        running.progress?.finish(
            statusLine(
                try? running.store.counts(), upload: upload, watcher: running.watcher,
                rate: throughput.rate))
        // Prepared jobs are not waited for: they have sent nothing and go straight back to the queue.
        logStopping(
            signal: end.signal, inFlight: max(0, upload.inFlight.count - running.pool.prepared.count),
            graceSeconds: running.shared.current.upload.shutdownGraceSeconds)
        shutDown(running)
        if let fatal = end.fatal { return fatal }
        guard options.once else { return .ok }
        let summary = runSummary(upload: upload, store: running.store, since: running.startedAt)
        logger.notice("run finished", metadata: ["summary": "\(summary.line)"])
        Console.out(summary.line)
        // The signal first: the run did not get to finish, whatever the jobs it got to did.
        if let signal = end.signal { return signal == SIGINT ? .interrupted : .terminated }
        return end.onceFailure ?? summary.exit
    }

    /// The config file as this run sees it: with the command line's pattern override, if any.
    func loadConfig() throws -> Config {
        let config = try ConfigLoader.load(path: options.configPath)
        return options.patterns?.apply(to: config) ?? config
    }

    /// One turn of the main thread, as the loop calls it: the reload a SIGHUP asks for.
    func reload(_ running: Running) {
        reload(
            shared: running.shared, upload: running.upload, pool: running.pool, watcher: running.watcher,
            folderLocks: running.locks.folders)
    }

    /// The `isDrained` rule for `--once`, with the running pieces.
    func isDrained(_ counts: [JobState: Int], running: Running) -> Bool {
        isDrained(counts, pool: running.pool, upload: running.upload)
    }

    /// The metrics file at its interval.
    func writeMetrics(_ running: Running) {
        writeMetrics(running.shared.current, upload: running.upload, store: running.store)
    }

    private func runSummary(upload: JobProcessor.Dependencies, store: JobStore, since: UInt64) -> RunSummary {
        let metrics = upload.metrics.snapshot
        let counts = (try? store.counts()) ?? [:]
        let left = (counts[.queued] ?? 0) + (counts[.uploading] ?? 0) + (counts[.retrying] ?? 0)
        return RunSummary(
            uploaded: metrics.doneUploaded, alreadyStored: metrics.doneAlreadyStored, failed: metrics.failed,
            left: left, seconds: Int((Timestamp.monotonicNanos() - since) / 1_000_000_000))
    }

    /// The first SIGTERM/SIGINT: what the stop waits for, for how long, and how to cut it short — an operator
    /// pressing Ctrl-C under load should not have to guess whether the daemon hangs.
    private func logStopping(signal: Int32?, inFlight: Int, graceSeconds: Int) {
        let name = signal.map(Self.signalName)
        var metadata: Logger.Metadata = ["signal": "\(name ?? "none")", "in_flight": "\(inFlight)"]
        guard let name else {
            // `--once` done, or a fatal condition already logged: no one is waiting for an answer to a signal.
            logger.info("stopping", metadata: metadata)
            return
        }
        guard inFlight > 0 else {
            logger.info("stopping on \(name): no uploads in flight", metadata: metadata)
            return
        }
        metadata["grace_s"] = "\(graceSeconds)"
        logger.notice(
            """
            stopping on \(name): waiting up to \(graceSeconds) s for \(inFlight) \
            upload\(inFlight == 1 ? "" : "s") in flight; a second SIGINT or SIGTERM aborts \(inFlight == 1 ? "it" : "them") \
            (\(inFlight == 1 ? "its job goes" : "their jobs go") back to the queue)
            """, metadata: metadata)
    }

    /// The ordered stop: no new work, in-flight uploads get the grace period, the rest are cut and their jobs
    /// go back to the queue, the stop is recorded.
    /// The components in reverse (watcher, workers within the grace period, webhook sender, endpoint), then
    /// the jobs still leased back to the queue, the stop recorded and the last metrics written.
    private func shutDown(_ running: Running) {
        let store = running.store
        let config = running.shared.current
        notifier.stopping()
        // The heartbeat goes on while a component is waited for: a grace period is longer than the silence after
        // which `status` says "not responding". A second SIGTERM/SIGINT (an impatient Ctrl-C) ends the wait at once.
        var lastBeat: UInt64 = 0
        running.components.stop(
            whileWaiting: { component in
                if Timestamp.monotonicNanos() - lastBeat >= UInt64(DaemonRecord.heartbeatIntervalSeconds)
                    * 1_000_000_000
                {
                    lastBeat = Timestamp.monotonicNanos()
                    try? store.recordHeartbeat(
                        statusLine:
                            "stopping: waiting up to \(config.upload.shutdownGraceSeconds) s for uploads in flight")
                }
                guard case .terminate = Signals.wait(timeoutSeconds: 0) else { return false }
                logger.warning("second stop signal; cutting in-flight uploads short (their jobs go back to the queue)")
                return true
            },
            cutShort: { component, bySignal in
                guard !bySignal else { return }
                if component is PoolComponent {
                    logger.warning(
                        "grace period over; cutting in-flight uploads short (their jobs go back to the queue)")
                } else {
                    logger.warning(
                        "component did not stop in time; cut short", metadata: ["component": "\(component.name)"])
                }
            })
        do {
            let released = try store.recoverLeases(expiredOnly: false)
            if released > 0 {
                logger.notice("in-flight jobs returned to the queue", metadata: ["count": "\(released)"])
            }
            try store.recordDaemonStop()
        } catch {
            logger.error("could not record the stop; the next start will recover", metadata: ["error": "\(error)"])
        }
        writeMetrics(config, upload: running.upload, store: store, up: false)
        logger.info("stopped")
    }

    private func isDrained(_ counts: [JobState: Int], pool: UploadWorkerPool, upload: JobProcessor.Dependencies) -> Bool
    {
        if upload.pause.isPaused { return false }
        // Jobs of a source the config does not name are never taken: a one-off run does not wait for them.
        let sources = SourceCounts(
            counts: (try? upload.store.sourceCounts()) ?? [:], configured: upload.config.current.sourceNames)
        let stranded = sources.unconfigured.map(sources.waiting).reduce(0, +)
        let waiting = (counts[.queued] ?? 0) + (counts[.uploading] ?? 0) + (counts[.retrying] ?? 0) - stranded
        return waiting <= 0 && pool.allIdle
    }

    package func statusLine(
        _ counts: [JobState: Int]?, upload: JobProcessor.Dependencies, watcher: Watcher, rate: Throughput.Rate?
    ) -> String {
        progress(counts, upload: upload, watcher: watcher, rate: rate).line
    }

    /// The status line and the backlog's ETA in it, computed once: the heartbeat records both, so `status`, the
    /// page and the progress line show one figure.
    package func progress(
        _ counts: [JobState: Int]?, upload: JobProcessor.Dependencies, watcher: Watcher,
        rate: Throughput.Rate?
    ) -> (line: String, eta: Int?) {
        guard let counts else { return ("database unreadable", nil) }
        var parts = ["\(counts[.queued] ?? 0) queued", "\(counts[.uploading] ?? 0) uploading"]
        if let retrying = counts[.retrying], retrying > 0 { parts.append("\(retrying) retrying") }
        parts.append("\(counts[.done] ?? 0) done")
        parts.append("\(counts[.failed] ?? 0) failed")
        if let last = upload.metrics.snapshot.lastUploadMonotonicNanos {
            parts.append("last upload \((Timestamp.monotonicNanos() - last) / 1_000_000_000) s ago")
        }
        let unwatched = watcher.unwatchedFolders
        if unwatched > 0 { parts.append("\(unwatched) folders unwatched (inotify limit; polled)") }
        let waiting = (counts[.queued] ?? 0) + (counts[.retrying] ?? 0) + (counts[.uploading] ?? 0)
        if let rate = Throughput.text(rate: rate) { parts.append(rate) }
        let eta = backlogETA(waiting: waiting, upload: upload, rate: rate)
        if waiting > 0, let eta { parts.append("ETA \(HumanUnits.duration(eta))") }
        if let reason = upload.pause.reason { parts.append((waiting > 0 ? "ETA unknown, " : "") + "PAUSED: \(reason)") }
        if let unconfigured = unconfiguredText(store: upload.store, config: upload.config) {
            parts.append(unconfigured)
        }
        // Only while work waits (claimed jobs wait for their grant as `uploading`): an idle daemon with a spent
        // budget is not waiting for anything.
        if waiting > 0, let wait = upload.budget.currentWait() { parts.append(wait.text) }
        return (parts.joined(separator: ", "), eta)
    }

    /// The full snapshot (range counts included) is read only when a metrics file is configured.
    private func writeMetrics(_ config: Config, upload: JobProcessor.Dependencies, store: JobStore, up: Bool = true) {
        guard let path = config.metrics.textfile, let text = MetricsWriter.current(GaugeSource(upload), up: up) else {
            return
        }
        do {
            try MetricsWriter(path: path).write(text: text)
        } catch {
            logger.warning("cannot write metrics file", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }

    /// `SIGTERM` rather than `15` in the log.
    package static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGTERM: "SIGTERM"
        case SIGINT: "SIGINT"
        case SIGHUP: "SIGHUP"
        case SIGQUIT: "SIGQUIT"
        default: "signal \(signal)"
        }
    }

    package static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

@available(*, unavailable)
extension Daemon: Sendable {}
