import Foundation

/// One scenario's temporary world: a drop folder, a database path, a config file and a daemon log.
package struct Workspace {
    package let directory: String
    package let inbox: String
    package var database: String { directory + "/state/jobs.sqlite3" }
    package var configPath: String { directory + "/imagedrop.toml" }
    package var logPath: String { directory + "/daemon.log" }

    /// `inboxRoot`: put the drop folder elsewhere (tmpfs), keeping the database on the root's filesystem.
    package init(root: String, name: String, inboxRoot: String? = nil) {
        directory = root + "/" + name
        inbox = (inboxRoot ?? directory) + "/inbox"
        Files.makeDirectory(inbox)
        Files.makeDirectory(directory + "/state")
    }

    package struct Settings {
        package var workers = 8
        package var settleMillis = 0
        package var requestsPerWindow = 0
        package var rateWindowSeconds: Int?
        package var shutdownGraceSeconds = 5
        package var pauseProbeSeconds = 30
        package var database: String?
        /// Writes the daemon's Prometheus textfile here (read back for its request-duration histogram).
        package var metricsTextfile: String?
        /// `workers = "auto"` (with `max_workers`) instead of the number above.
        package var autoWorkers = false
        package var maxWorkers = 64
        /// Send to this API root instead of the emulator's (the nginx sink).
        package var apiBaseURL: String?
        /// `batch_api = true` with this `batch_base_url` (the emulator's root serves the batch host's routes).
        package var batchBaseURL: String?

        package init(
            workers: Int = 8, settleMillis: Int = 0, requestsPerWindow: Int = 0, rateWindowSeconds: Int? = nil,
            shutdownGraceSeconds: Int = 5, pauseProbeSeconds: Int = 30, database: String? = nil,
            metricsTextfile: String? = nil
        ) {
            self.workers = workers
            self.settleMillis = settleMillis
            self.requestsPerWindow = requestsPerWindow
            self.rateWindowSeconds = rateWindowSeconds
            self.shutdownGraceSeconds = shutdownGraceSeconds
            self.pauseProbeSeconds = pauseProbeSeconds
            self.database = database
            self.metricsTextfile = metricsTextfile
        }
    }

    package func writeConfig(emulator: Emulator, _ settings: Settings) throws {
        let window = settings.rateWindowSeconds.map { "rate_window_s = \($0)" } ?? ""
        let text = """
            [cloudflare]
            account_id = "\(emulator.accountID)"
            api_base_url = "\(settings.apiBaseURL ?? emulator.apiBaseURL)"
            \(settings.batchBaseURL.map { "batch_api = true\nbatch_base_url = \"\($0)\"" } ?? "")

            [images]
            id = "content-hash"

            [watch]
            paths = ["\(inbox)"]
            settle_ms = \(settings.settleMillis)
            rescan_interval_s = 600

            [queue]
            database = "\(settings.database ?? database)"

            [upload]
            workers = \(settings.autoWorkers ? "\"auto\"" : "\(settings.workers)")
            max_workers = \(settings.maxWorkers)
            requests_per_5min = \(settings.requestsPerWindow)
            \(window)
            backoff_initial_ms = 200
            backoff_max_ms = 5000
            request_timeout_s = 120
            shutdown_grace_s = \(settings.shutdownGraceSeconds)
            pause_probe_s = \(settings.pauseProbeSeconds)

            \(settings.metricsTextfile.map { "[metrics]\ntextfile = \"\($0)\"\ninterval_s = 1\n" } ?? "")
            [log]
            level = "info"
            format = "text"

            """
        try Files.write(text: text, to: configPath)
    }
}
