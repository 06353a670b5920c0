import ImagedropPipeline
import ImagedropStore
import ImagedropSystem
import Logging

/// SIGHUP: re-read the config and apply what can change live. A config that does not load is refused
/// with a log line and the old one stays in force. Nothing here waits for the watcher: it takes the new
/// settings (watch roots included) and arms, scans and forgets folders on its own thread, so RELOADING=1 …
/// READY=1 is answered at once even during a long rescan. A refusal is recorded for `status` until a good
/// reload. Either way a paused queue is probed again at once: a SIGHUP is how an operator says "I fixed it".
struct Reload {
    let options: Daemon.Options
    let notifier: SystemdNotifier
    let logger: Logger
    let shared: SharedConfig
    let upload: JobProcessor.Dependencies
    let pool: UploadWorkerPool
    let watcher: Watcher
    let folderLocks: WatchFolderLocks

    func callAsFunction() {
        notifier.reloading()
        defer {
            probeAgainIfPaused(upload.pause)
            notifier.ready()
        }
        let old = shared.current
        let new: Config
        do {
            new = try options.loadConfig()
        } catch {
            refuseReload(error, store: upload.store)
            return
        }
        do {
            // Before anything applies: a folder another daemon watches is refused like at start.
            try folderLocks.update(folders: new.watch.paths)
        } catch {
            refuseReload(error, store: upload.store)
            return
        }
        if new.http != old.http {
            logger.warning("[http] cannot change on reload; restart to apply it")
        }
        if new.queue.database != old.queue.database {
            logger.warning("queue.database cannot change on reload; restart to use the new database")
        }
        var applied = new
        applied.queue.database = old.queue.database
        applied.http = old.http
        shared.replace(applied)
        upload.store.setClaimableSources(new.sourceNames)
        SourceReport(logger: logger).logChanges(old: old, new: new, store: upload.store)
        configureWebhookEvents(new, store: upload.store)
        upload.budget.update(limit: new.upload.requestsPer5Min, windowSeconds: Double(new.upload.rateWindowSeconds))
        pool.reconfigure(new)
        upload.tokens.replaceSource(TokenSource(config: new, environment: options.environment))
        options.onLogLevelChange(LogLevelName.parse(new.log.level) ?? .info)
        watcher.update(config: new)
        recordReloadRefusal(nil, store: upload.store)
        logger.notice("configuration reloaded", metadata: ["workers": "\(new.upload.workersShown)"])
    }

    private func refuseReload(_ error: any Error, store: JobStore) {
        logger.error("reload refused; the previous configuration stays in force", metadata: ["error": "\(error)"])
        // "key: problem", as the text status shows it: the file is the operator's, the key is what to fix.
        let text =
            (error as? ConfigError).map { error in error.key.map { "\($0): \(error.problem)" } ?? error.problem }
            ?? "\(error)"
        recordReloadRefusal(text, store: store)
    }

    private func recordReloadRefusal(_ text: String?, store: JobStore) {
        do {
            try store.recordReloadRefused(text)
        } catch {
            logger.warning("cannot record the reload's outcome for status", metadata: ["error": "\(error)"])
        }
    }

    /// The prober waits `pause_probe_s` between probes; a SIGHUP cuts that wait short (a fixed token file,
    /// a network path restored) instead of leaving the queue paused until the next probe.
    private func probeAgainIfPaused(_ pause: PauseGate) {
        guard pause.kind != nil else { return }
        pause.probeSoon()
        logger.notice("SIGHUP: probing the paused queue now", metadata: ["reason": "\(pause.apiReason ?? "")"])
    }

    /// On reload: the outcomes the outbox triggers record from now on (none while `[webhook] url` is unset).
    private func configureWebhookEvents(_ config: Config, store: JobStore) {
        do {
            try store.configureWebhookEvents(config.webhook.recordedEvents)
        } catch {
            logger.error(
                "cannot configure webhook events; outcomes may not be notified", metadata: ["error": "\(error)"])
        }
    }
}
