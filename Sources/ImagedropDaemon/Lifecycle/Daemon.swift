import FoundationEssentials
import Glibc
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import Logging

/// `imagedrop run`: prepares what the run needs (config, database and locks, token, the job path's shared objects,
/// the watcher armed) and hands it to the `MainLoop`, which starts the components, turns until a stop, and stops
/// them in reverse — stop taking work, let in-flight uploads finish within the grace period, cut the rest and put
/// their jobs back in the queue, record the stop; then `--once`'s summary and exit code.
package final class Daemon {
    package struct Options: Sendable {
        package var configPath: String
        package var once = false
        /// Draw the status line on stderr when it is a terminal (`TerminalStatusLine`); never elsewhere.
        package var progress = false
        package var environment: [String: String] = ProcessInfo.processInfo.environment
        /// Applies `[log] level` after a reload (the log handler lives in the executable's bootstrap).
        package var onLogLevelChange: @Sendable (Logger.Level) -> Void = { _ in }
        /// `run --once --include/--exclude`: laid over every load of the config file, the start's and reloads'.
        package var patterns: PatternOverride?
        package init(configPath: String) { self.configPath = configPath }
    }

    /// 74 (EX_IOERR): a failure that passes on its own (the database stayed locked by another process or could
    /// not be written for the start-up patience; the database file was deleted or replaced under the running
    /// daemon); the unit restarts it, unlike 75 and 78. 77 (EX_NOPERM): the database or its folder may not be
    /// written by this user. 23 (rsync's "partial transfer"): `run --once` finished, but jobs of the run failed.
    /// 130 and 143 (128 + the signal, as a shell reports a process the signal killed): `run --once` stopped by
    /// SIGINT or SIGTERM before its backlog was through, so a script or cron job does not take it for a complete
    /// run. `status --check`'s own codes are `StatusReport.Health`.
    package enum Exit: Int32, Sendable {
        case ok = 0
        case partial = 23
        case usage = 64
        case noInput = 65
        case unavailable = 69
        case transient = 74
        case alreadyRunning = 75
        case
            noPermission = 77
        case config = 78
        case interrupted = 130
        case terminated = 143
    }

    let options: Options
    package var logger: Logger
    let notifier: SystemdNotifier

    package init(options: Options, logger: Logger) {
        self.options = options
        self.logger = logger
        self.notifier = SystemdNotifier(environment: options.environment)
    }

    package func run() -> Exit {
        let loop: MainLoop
        switch start() {
        case .failure(let failure): return failure.exit
        case .success(let started): loop = started
        }
        // The flocks live as long as their descriptors: keep them until run() returns.
        defer { withExtendedLifetime(loop.running.locks) {} }
        let end = loop.run()
        loop.stop(end)
        if let fatal = end.fatal { return fatal }
        guard options.once else { return .ok }
        let summary = runSummary(loop.running)
        logger.notice("run finished", metadata: ["summary": "\(summary.line)"])
        Console.out(summary.line)
        // The signal first: the run did not get to finish, whatever the jobs it got to did.
        if let signal = end.signal { return signal == SIGINT ? .interrupted : .terminated }
        return end.onceFailure ?? summary.exit
    }

    private func runSummary(_ running: Running) -> RunSummary {
        let metrics = running.upload.metrics.snapshot
        let counts = (try? running.store.counts()) ?? [:]
        let left = (counts[.queued] ?? 0) + (counts[.uploading] ?? 0) + (counts[.retrying] ?? 0)
        return RunSummary(
            uploaded: metrics.doneUploaded, alreadyStored: metrics.doneAlreadyStored, failed: metrics.failed,
            left: left, seconds: Int((Timestamp.monotonicNanos() - running.startedAt) / 1_000_000_000))
    }

    /// `SIGTERM` rather than `15` in the log.
    package static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGTERM: "SIGTERM"
        case SIGINT: "SIGINT"
        case SIGHUP: "SIGHUP"
        case SIGQUIT: "SIGQUIT"
        default: "signal \(signal)"
        }
    }

    package static func hostname() -> String { Config.Fleet.currentHostname() ?? "" }
}

@available(*, unavailable)
extension Daemon: Sendable {}

extension Daemon.Options {
    /// The config file as this run sees it: with the command line's pattern override, if any.
    func loadConfig() throws -> Config {
        let config = try ConfigLoader.load(path: configPath)
        return patterns?.apply(to: config) ?? config
    }
}
