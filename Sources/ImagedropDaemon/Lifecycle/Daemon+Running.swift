import Glibc
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem

extension Daemon {
    /// Everything `run` started; `stop` takes its components down in reverse.
    final class Running {
        let config: Config
        let locks: (database: StartupStore, folders: WatchFolderLocks)
        let shared: SharedConfig
        let upload: JobProcessor.Dependencies
        let heartbeats: Heartbeats
        let databaseHealth: DatabaseHealth
        let watcher: Watcher
        let progress: TerminalStatusLine?
        let pool: UploadWorkerPool
        /// What runs on its own (endpoint, webhook sender, workers, watcher), in start order; stopped in reverse.
        let components: Components
        let startedAt = Timestamp.monotonicNanos()

        init(
            config: Config, locks: (StartupStore, WatchFolderLocks), shared: SharedConfig,
            upload: JobProcessor.Dependencies,
            heartbeats: Heartbeats, databaseHealth: DatabaseHealth, watcher: Watcher, progress: TerminalStatusLine?,
            pool: UploadWorkerPool, components: Components
        ) {
            self.config = config
            self.locks = locks
            self.shared = shared
            self.upload = upload
            self.heartbeats = heartbeats
            self.databaseHealth = databaseHealth
            self.watcher = watcher
            self.progress = progress
            self.pool = pool
            self.components = components
        }

        var store: JobStore { upload.store }
    }

    /// Why start-up stopped: the line is already printed, this is the exit code.
    struct StartFailure: Error {
        let exit: Exit
    }
}
