import ImagedropCore
import Logging

/// Installs the log handler once per process, from `[log]`.
enum LogSetup {
    static func bootstrap(_ config: Config.Log) {
        let level = LogLevelName.parse(config.level) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    static func setLevel(_ level: Logger.Level) {}
}
