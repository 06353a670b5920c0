import ImagedropSystem
import ImagedropStore
import ImagedropPipeline
import Foundation
import Glibc
import ImagedropSupport
import Logging

extension Daemon {
    /// Everything `run` started, in the order it started it; `stop` takes it down in reverse.
    final class Running {
        let config: Config
        let locks: (database: StartupStore, folders: WatchFolderLocks)
        let shared: SharedConfig
        let upload: JobProcessor.Dependencies
        let heartbeats: Heartbeats
        let databaseHealth: DatabaseHealth
        let endpoint: StatusEndpoint?
        let watcher: Watcher
        let progress: TerminalStatusLine?
        let pool: UploadWorkerPool
        let webhooks: WebhookSender
        let watcherThread: ThreadHandle
        let startedAt = Timestamp.monotonicNanos()

        init(config: Config, locks: (StartupStore, WatchFolderLocks), shared: SharedConfig, upload: JobProcessor.Dependencies,
             heartbeats: Heartbeats,
             databaseHealth: DatabaseHealth, endpoint: StatusEndpoint?, watcher: Watcher, progress: TerminalStatusLine?,
             pool: UploadWorkerPool, webhooks: WebhookSender, watcherThread: ThreadHandle) {
            self.config = config
            self.locks = locks
            self.shared = shared
            self.upload = upload
            self.heartbeats = heartbeats
            self.databaseHealth = databaseHealth
            self.endpoint = endpoint
            self.watcher = watcher
            self.progress = progress
            self.pool = pool
            self.webhooks = webhooks
            self.watcherThread = watcherThread
        }

        var store: JobStore { upload.store }
    }

    /// Why start-up stopped: the line is already printed, this is the exit code.
    struct StartFailure: Error {
        let exit: Exit
    }
}
