import ImagedropSystem
import ImagedropStore
import ImagedropPipeline
import Foundation
import Glibc
import ImagedropSupport
import Logging

extension Daemon {
    /// SIGHUP: re-read the config and apply what can change live. A config that does not load is refused
    /// with a log line and the old one stays in force. Nothing here waits for the watcher: it takes the new
    /// settings (watch roots included) and arms, scans and forgets folders on its own thread, so RELOADING=1 …
    /// READY=1 is answered at once even during a long rescan.
    func reload(shared: SharedConfig, services: UploadServices, pool: UploadWorkerPool, watcher: Watcher,
                        folderLocks: WatchFolderLocks) {
        notifier.reloading()
        defer { notifier.ready() }
        let old = shared.current
        let new: Config
        do {
            new = try loadConfig()
        } catch {
            logger.error("reload refused; the previous configuration stays in force", metadata: ["error": "\(error)"])
            return
        }
        do {
            // Before anything applies: a folder another daemon watches is refused like at start.
            try folderLocks.update(folders: new.watch.paths)
        } catch {
            logger.error("reload refused; the previous configuration stays in force", metadata: ["error": "\(error)"])
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
        services.store.setClaimableSources(new.sourceNames)
        logSourceChanges(old: old, new: new, store: services.store)
        configureWebhookEvents(new, store: services.store)
        services.limiter.update(limit: new.upload.requestsPer5Min, windowSeconds: Double(new.upload.rateWindowSeconds))
        pool.reconfigure(new)
        services.tokens.replaceSource(TokenSource(config: new, environment: options.environment))
        options.onLogLevelChange(LogLevelName.parse(new.log.level) ?? .info)
        watcher.update(config: new)
        logger.notice("configuration reloaded", metadata: ["workers": "\(new.upload.workersShown)"])
    }

    /// On reload: the outcomes the outbox triggers record from now on (none while `[webhook] url` is unset).
    func configureWebhookEvents(_ config: Config, store: JobStore) {
        do {
            try store.configureWebhookEvents(config.webhook.recordedEvents)
        } catch {
            logger.error("cannot configure webhook events; outcomes may not be notified", metadata: ["error": "\(error)"])
        }
    }
}
