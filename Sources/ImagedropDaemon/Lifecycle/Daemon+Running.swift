import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem

extension Daemon {
    /// What start prepared before any component runs: the config, the locks, the job path's shared objects and
    /// the armed watcher. The main loop makes its components from it.
    final class Running {
        let config: Config
        let locks: (database: StartupStore, folders: WatchFolderLocks)
        let shared: SharedConfig
        let upload: JobProcessor.Dependencies
        let heartbeats: Heartbeats
        let databaseHealth: DatabaseHealth
        let watcher: Watcher
        let progress: TerminalStatusLine?
        let startedAt = Timestamp.monotonicNanos()

        init(
            config: Config, locks: (StartupStore, WatchFolderLocks), shared: SharedConfig,
            upload: JobProcessor.Dependencies, heartbeats: Heartbeats, databaseHealth: DatabaseHealth,
            watcher: Watcher, progress: TerminalStatusLine?
        ) {
            self.config = config
            self.locks = locks
            self.shared = shared
            self.upload = upload
            self.heartbeats = heartbeats
            self.databaseHealth = databaseHealth
            self.watcher = watcher
            self.progress = progress
        }

        var store: JobStore { upload.store }
        var text: ProgressText { ProgressText(upload: upload, watcher: watcher) }
    }

    /// Why start-up stopped: the line is already printed, this is the exit code.
    struct StartFailure: Error {
        let exit: Exit
    }
}
