import ImagedropStore
import ImagedropPipeline
import Glibc
import ImagedropSupport

extension Daemon {
    /// Everything `run` started, in the order it started it; `stop` takes it down in reverse.
    final class Running {
        let config: Config
        let locks: (database: StartupStore, folders: WatchFolderLocks)
        let shared: SharedConfig
        let services: UploadServices
        let databaseHealth: DatabaseHealth
        let endpoint: StatusEndpoint?
        let watcher: Watcher
        let progress: TerminalStatusLine?
        let pool: UploadWorkerPool
        let webhooks: WebhookSender
        let watcherThread: ThreadHandle
        let startedAt = Timestamp.monotonicNanos()

        init(config: Config, locks: (StartupStore, WatchFolderLocks), shared: SharedConfig, services: UploadServices,
             databaseHealth: DatabaseHealth, endpoint: StatusEndpoint?, watcher: Watcher, progress: TerminalStatusLine?,
             pool: UploadWorkerPool, webhooks: WebhookSender, watcherThread: ThreadHandle) {
            self.config = config
            self.locks = locks
            self.shared = shared
            self.services = services
            self.databaseHealth = databaseHealth
            self.endpoint = endpoint
            self.watcher = watcher
            self.progress = progress
            self.pool = pool
            self.webhooks = webhooks
            self.watcherThread = watcherThread
        }

        var store: JobStore { services.store }
    }

    /// Why start-up stopped: the line is already printed, this is the exit code.
    struct StartFailure: Error {
        let exit: Exit
    }
}
