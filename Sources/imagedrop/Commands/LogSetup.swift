import ImagedropDaemon
import ImagedropStore
import Logging
import Synchronization

/// Installs the log handler once per process, from `[log]`, and keeps its level control for reloads.
enum LogSetup {
    private static let control = Mutex<LogLevelControl?>(nil)

    static func bootstrap(_ config: Config.Log) {
        let installed = LineLogHandler.bootstrap(
            level: LogLevelName.parse(config.level) ?? .info, format: config.format)
        control.withLock { $0 = installed }
    }

    static func setLevel(_ level: Logger.Level) {
        control.withLock { $0?.level = level }
    }
}
