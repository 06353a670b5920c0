import Glibc
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import Logging

extension Daemon {
    /// Start-up: what the run needs (`prepare`), then the main loop's components in their order
    /// (`DaemonComponents`), and READY=1 last.
    func start() -> Result<MainLoop, StartFailure> {
        let running: Running
        switch prepare() {
        case .failure(let failure): return .failure(failure)
        case .success(let prepared): running = prepared
        }
        let loop = MainLoop(running: running, options: options, notifier: notifier, logger: logger)
        let config = running.config
        do {
            try loop.start()
        } catch {
            try? running.store.recordDaemonStop()
            // The port is taken (a daemon still stopping, another service) or the address is not up yet: 74,
            // which the unit restarts, rather than 78, which it does not.
            let passes = (error as? StatusEndpoint.StartError)?.passes ?? false
            Console.error(
                passes
                    ? "cannot listen on http.listen = \(config.http.listen!): \(error); exiting for a restart"
                    : "config error: http.listen: \(error) (in \(config.sourcePath))")
            return .failure(StartFailure(exit: passes ? .transient : .config))
        }
        logger.info(
            "imagedrop started",
            metadata: [
                "pid": "\(getpid())", "database": "\(config.queue.database)",
                "workers": "\(config.upload.workersShown)",
                "watch": "\(config.watch.paths.joined(separator: ","))",
                "sources": "\(config.sourceNames.joined(separator: ","))",
                "http": "\(loop.components.endpoint?.endpoint?.address ?? "off")",
                "version": "\(ImagedropVersion.current)", "commit": "\(BuildInfo.commit)",
                "api": "\(config.cloudflare.apiBaseURL)", "config": "\(options.configPath)",
            ])
        notifier.ready()
        return .success(loop)
    }

    /// What the run needs before any component starts, in its declared order: config, database and its lock,
    /// folder locks, what the table must know before any outcome (sources, webhook events), credentials, the
    /// watcher armed (so nothing written from now on is missed), libcurl.
    private func prepare() -> Result<Running, StartFailure> {
        let config: Config
        let opened: StartupStore
        switch loadAndOpen() {
        case .failure(let failure): return .failure(failure)
        case .success(let loaded): (config, opened) = loaded
        }
        let store = opened.store
        // A start that gives up once its start is recorded: it never ran, so `status` must not call it an
        // unclean stop (and a unit restarting it every 15 s would otherwise show "did not stop cleanly").
        func abandon(_ exit: Exit, _ line: String) -> Result<Running, StartFailure> {
            try? store.recordDaemonStop()
            return Self.fail(exit, line)
        }
        let folderLocks: WatchFolderLocks
        do {
            folderLocks = try WatchFolderLocks(folders: config.watch.paths)
        } catch {
            return abandon(.alreadyRunning, "\(error)")
        }
        let files = OpenFileLimit.raiseToHard()
        logger.info("open files limit", metadata: ["soft_before": "\(files.before)", "soft": "\(files.after)"])
        logRecovery(opened)

        let upload: JobProcessor.Dependencies
        switch jobPath(config, store: store) {
        case .failure(let failure):
            try? store.recordDaemonStop()
            return .failure(failure)
        case .success(let made): upload = made
        }
        let heartbeats = Heartbeats()

        let watcher: Watcher
        do {
            watcher = try Watcher(
                config: config, store: store, workSignal: upload.workSignal, logger: logger,
                heartbeat: heartbeats.heartbeat("watcher"), openWrites: upload.openWrites)
            try watcher.arm()
        } catch {
            return abandon(.config, "config error: watch.paths: cannot watch: \(error)")
        }
        do {
            try CurlGlobal.initialize()
        } catch {
            return abandon(.unavailable, "cannot start libcurl: \(error)")
        }
        let progress = options.progress ? TerminalStatusLine.stderr : nil
        // Drawn before the first worker runs: from then on per-file lines are the status line's, from the first job.
        progress?.show(ProgressText(upload: upload, watcher: watcher).line(try? store.counts(), rate: nil))
        return .success(
            Running(
                config: config, locks: (opened, folderLocks), shared: upload.config, upload: upload,
                heartbeats: heartbeats,
                databaseHealth: DatabaseHealth(), watcher: watcher, progress: progress))
    }

    private static func fail<Success>(_ exit: Exit, _ line: String) -> Result<Success, StartFailure> {
        Console.error(line)
        return .failure(StartFailure(exit: exit))
    }

    /// The config, then the job table opened and its lock taken (the start recorded).
    private func loadAndOpen() -> Result<(Config, StartupStore), StartFailure> {
        let config: Config
        do {
            config = try options.loadConfig()
        } catch {
            return Self.fail(.config, "\(error)")
        }
        do {
            let opened = try StartupStore.open(database: config.queue.database, logger: logger) { job in
                job.kind == .url
                    ? nil
                    : config.scoped(to: job.source).flatMap {
                        AfterUploadActions.pendingAction(success: false, config: $0)
                    }
            }
            return .success((config, opened))
        } catch {
            switch error {
            case .alreadyRunning(let held): return Self.fail(error.exit, "\(held)")
            case .transient(let message), .notWritable(let message), .permanent(let message):
                return Self.fail(error.exit, message)
            }
        }
    }

    /// What the table must know before any outcome (the sources, the webhook events), the credentials and the job
    /// path's shared objects, made once: conflicting token settings refuse the start; a token that cannot be read
    /// pauses the queue (it may come: the prober reads it again).
    private func jobPath(_ config: Config, store: JobStore) -> Result<JobProcessor.Dependencies, StartFailure> {
        // Workers take only the configured sources' jobs: a source no longer in the config keeps its jobs queued.
        store.setClaimableSources(config.sourceNames)
        SourceReport(logger: logger).reportUnconfigured(config, store: store)
        do {
            // Before any outcome can be written: the outbox triggers must know what to record.
            try store.configureWebhookEvents(config.webhook.recordedEvents)
        } catch {
            return Self.fail(.transient, "cannot write the job table \(config.queue.database): \(error)")
        }
        let tokenSource = TokenSource(config: config, environment: options.environment)
        if let conflict = tokenSource.conflict {
            return Self.fail(.config, ConfigError(file: options.configPath, key: nil, problem: conflict).description)
        }
        let tokens = TokenProvider(source: tokenSource)
        if let warning = tokenSource.exposureWarning {
            logger.warning("token file readable by others", metadata: ["problem": "\(warning)"])
        }
        let upload = JobProcessor.Dependencies.make(
            config, shared: SharedConfig(config), store: store, tokens: tokens, logger: logger)
        AfterUploadActions(store: store, logger: logger).replayPending(config: config)
        if tokens.token == nil {
            let reason = "no API token: \(tokens.problem ?? "unknown")"
            upload.pause.pause(reason)
            try? store.recordPause(reason)
            PauseNotice.log(logger, reason: reason, kind: .credentials, config: config)
        }
        // Before any worker claims: a queue the operator paused sends nothing, from the first second.
        OperatorPauseFollower.follow(
            store: upload.store, pause: upload.pause, workSignal: upload.workSignal, logger: logger)
        return .success(upload)
    }

    /// What the previous run left: a crash, jobs it held queued again, jobs quarantined after two crashes.
    private func logRecovery(_ opened: StartupStore) {
        if let signal = opened.previousCrashSignal {
            logger.error(
                "the previous daemon crashed; the jobs it held are handled one at a time, and one held by two crashes in a row is quarantined",
                metadata: ["signal": "\(signal)"])
        }
        if opened.recovery.requeued > 0 {
            logger.notice(
                "jobs interrupted by the previous run queued again; each is handled alone before others",
                metadata: ["count": "\(opened.recovery.requeued)"])
        }
        for job in opened.recovery.quarantined {
            logger.error(
                "job quarantined: the daemon stopped twice while handling this file",
                metadata: ["job": "\(job.id)", "path": "\(job.path)", "status": "failed"])
        }
    }
}
