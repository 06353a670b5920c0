import Glibc
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import Logging

extension Daemon {
    /// Start-up in its declared order: config, database and its lock, folder locks, what the table must know
    /// before any outcome (sources, webhook events), credentials, the watcher armed (so nothing written from now
    /// on is missed), libcurl, then the components in order (HTTP endpoint, webhook sender, workers, the watcher's
    /// thread), and READY=1 last.
    func start() -> Result<Running, StartFailure> {
        func fail(_ exit: Exit, _ line: String) -> Result<Running, StartFailure> {
            Console.error(line)
            return .failure(StartFailure(exit: exit))
        }
        let config: Config
        do {
            config = try loadConfig()
        } catch {
            return fail(.config, "\(error)")
        }
        let opened: StartupStore
        do {
            opened = try StartupStore.open(database: config.queue.database, logger: logger) { job in
                job.kind == .url
                    ? nil
                    : config.scoped(to: job.source).flatMap {
                        AfterUploadActions.pendingAction(success: false, config: $0)
                    }
            }
        } catch {
            switch error {
            case .alreadyRunning(let held): return fail(error.exit, "\(held)")
            case .transient(let message), .notWritable(let message), .permanent(let message):
                return fail(error.exit, message)
            }
        }
        let store = opened.store
        // A start that gives up once its start is recorded: it never ran, so `status` must not call it an
        // unclean stop (and a unit restarting it every 15 s would otherwise show "did not stop cleanly").
        func abandon(_ exit: Exit, _ line: String) -> Result<Running, StartFailure> {
            try? store.recordDaemonStop()
            return fail(exit, line)
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

        let shared = SharedConfig(config)
        // Workers take only the configured sources' jobs: a source no longer in the config keeps its jobs queued.
        store.setClaimableSources(config.sourceNames)
        reportUnconfiguredSources(config, store: store)
        do {
            // Before any outcome can be written: the outbox triggers must know what to record.
            try store.configureWebhookEvents(config.webhook.recordedEvents)
        } catch {
            return abandon(.transient, "cannot write the job table \(config.queue.database): \(error)")
        }
        let tokenSource = TokenSource(config: config, environment: options.environment)
        if let conflict = tokenSource.conflict {
            return abandon(.config, ConfigError(file: options.configPath, key: nil, problem: conflict).description)
        }
        let tokens = TokenProvider(source: tokenSource)
        if let warning = tokenSource.exposureWarning {
            logger.warning("token file readable by others", metadata: ["problem": "\(warning)"])
        }
        let heartbeats = Heartbeats()
        let upload = uploadDependencies(config, shared: shared, store: store, tokens: tokens)
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

        let databaseHealth = DatabaseHealth()
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
        progress?.show(statusLine(try? store.counts(), upload: upload, watcher: watcher, rate: nil))
        let (components, pool, endpoint) = components(
            config, upload: upload, heartbeats: heartbeats, watcher: watcher,
            health: databaseHealth)
        do {
            try components.start()
        } catch let error as StatusEndpoint.StartError where error.passes {
            // The port is taken (a daemon still stopping, another service) or the address is not up yet:
            // 74, which the unit restarts, rather than 78, which it does not.
            return abandon(
                .transient,
                "cannot listen on http.listen = \(config.http.listen!): \(error.description); exiting for a restart")
        } catch {
            return abandon(.config, "config error: http.listen: \(error) (in \(config.sourcePath))")
        }
        logger.info(
            "imagedrop started",
            metadata: [
                "pid": "\(getpid())", "database": "\(config.queue.database)",
                "workers": "\(config.upload.workersShown)",
                "watch": "\(config.watch.paths.joined(separator: ","))",
                "sources": "\(config.sourceNames.joined(separator: ","))",
                "http": "\(endpoint?.endpoint?.address ?? "off")",
                "version": "\(ImagedropVersion.current)", "commit": "\(BuildInfo.commit)",
                "api": "\(config.cloudflare.apiBaseURL)", "config": "\(options.configPath)",
            ])
        notifier.ready()
        return .success(
            Running(
                config: config, locks: (opened, folderLocks), shared: shared, upload: upload, heartbeats: heartbeats,
                databaseHealth: databaseHealth, watcher: watcher, progress: progress, pool: pool,
                components: components))
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

    /// The objects the job path shares, each made once here; the budget is the one the config asks for.
    private func uploadDependencies(
        _ config: Config, shared: SharedConfig, store: JobStore,
        tokens: TokenProvider
    ) -> JobProcessor.Dependencies {
        JobProcessor.Dependencies.make(config, shared: shared, store: store, tokens: tokens, logger: logger)
    }

    /// The components in start order, not started yet: started in this order and stopped in reverse, the
    /// endpoint answers /healthz through the whole stop, the webhook sender outlives the workers whose outcomes
    /// it sends, and the watcher stops taking files first.
    private func components(
        _ config: Config, upload: JobProcessor.Dependencies, heartbeats: Heartbeats, watcher: Watcher,
        health: DatabaseHealth
    ) -> (Components, UploadWorkerPool, EndpointComponent?) {
        let pool = UploadWorkerPool(upload, heartbeats: heartbeats)
        let webhooks = WebhookSender(
            store: upload.store, config: upload.config, heartbeat: heartbeats.heartbeat("webhook"),
            logger: logger)
        let endpoint = config.http.listen.map { listen in
            let site = StatusSite(
                gauges: GaugeSource(upload), config: upload.config, heartbeats: heartbeats, health: health)
            return EndpointComponent { [logger] in try StatusEndpoint.start(listen, site: site, logger: logger) }
        }
        let inOrder: [(any Component)?] = [
            endpoint, WebhookComponent(webhooks), PoolComponent(pool, upload: upload),
            WatcherComponent(watcher),
        ]
        return (Components(inOrder.compactMap { $0 }), pool, endpoint)
    }
}
