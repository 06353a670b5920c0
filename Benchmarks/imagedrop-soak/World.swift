import Foundation
import Glibc
import ProcessHarness

/// The soak's folders and the daemon's config, rewritten whole on every change (then SIGHUP or restart).
struct World {
    let root: String
    let rootA: [UInt8]
    let rootB: [UInt8]
    let done: [UInt8]
    let failed: [UInt8]
    let staging: [UInt8]
    let outside: [UInt8]
    let state: String
    var database: String { state + "/jobs.sqlite3" }
    var configPath: String { root + "/imagedrop.toml" }
    var daemonLog: String { root + "/daemon.log" }
    var notifySocket: String { root + "/notify.sock" }

    /// `[fleet]` for a soak with `--hosts N` (appended to the config); empty for a lone host.
    let fleetSection: String

    init(root: String, fleetSection: String = "") {
        self.root = root
        self.fleetSection = fleetSection
        rootA = Array((root + "/drop/a").utf8)
        rootB = Array((root + "/drop/b").utf8)
        done = Array((root + "/done").utf8)
        failed = Array((root + "/failed").utf8)
        staging = Array((root + "/staging").utf8)
        outside = Array((root + "/outside").utf8)
        state = root + "/state"
        for folder in [rootA, rootB, done, failed, staging, outside, Array(state.utf8)] {
            BytePaths.makeDirectories(folder)
        }
    }

    /// What the operator changes while it runs.
    struct Settings: Equatable {
        /// A number pins the pool; `Settings.auto` (a reload's draw of 6) is `workers = "auto"`, the default
        /// users run, capped low so the budget, not the cap, is what it adapts to.
        var workers = 3
        static let auto = 6
        var workersText: String { workers == Settings.auto ? "auto" : "\(workers)" }
        var watchB = true
        var excludeGIF = false
        var moves = false
    }

    /// Budget: `requestsPerWindow` per `windowSeconds`, so a five-minute window fits in seconds.
    static let requestsPerWindow = 100
    static let windowSeconds = 10
    static let requestTimeoutSeconds = 3
    static let settleMillis = 300
    /// `upload.backoff_max_ms`: DESIGN caps every wait there, a server's Retry-After included.
    static let backoffMaxMillis: Int64 = 3000
    static let watchdogMicros = 6_000_000

    func writeConfig(_ settings: Settings, emulator: Emulator) throws {
        func quoted(_ path: [UInt8]) -> String { "\"" + String(decoding: path, as: UTF8.self) + "\"" }
        let paths = [rootA] + (settings.watchB ? [rootB] : [])
        let excludes = [".*", "*.tmp", "*.part", "*.crdownload", "*~"] + (settings.excludeGIF ? ["*.gif"] : [])
        let text = """
            [cloudflare]
            account_id = "\(emulator.accountID)"
            api_base_url = "\(emulator.apiBaseURL)"

            [images]
            id = "content-hash"

            [watch]
            paths = [\(paths.map(quoted).joined(separator: ", "))]
            exclude = [\(excludes.map { "\"\($0)\"" }.joined(separator: ", "))]
            settle_ms = \(World.settleMillis)
            rescan_interval_s = 5

            [queue]
            database = "\(database)"

            [upload]
            \(settings.workers == Settings.auto ? "workers = \"auto\"\nmax_workers = 8" : "workers = \(settings.workers)")
            max_attempts = 30
            backoff_initial_ms = 200
            backoff_max_ms = \(World.backoffMaxMillis)
            request_timeout_s = \(World.requestTimeoutSeconds)
            shutdown_grace_s = 2
            requests_per_5min = \(World.requestsPerWindow)
            rate_window_s = \(World.windowSeconds)
            pause_probe_s = 1

            [after_upload]
            on_success = "\(settings.moves ? "move" : "keep")"
            on_failure = "\(settings.moves ? "move" : "keep")"
            done_dir = \(quoted(done))
            failed_dir = \(quoted(failed))
            sidecar = \(settings.moves)

            [log]
            level = "info"
            format = "text"
            \(fleetSection)

            """
        // Written beside and renamed, so a SIGHUP never reads half a file.
        let temporary = configPath + ".new"
        try Files.write(text: text, to: temporary)
        guard Glibc.rename(temporary, configPath) == 0 else { throw SpawnError(description: "rename config failed") }
    }
}

/// One run of `imagedrop run`: when it was started, when it said READY=1, when the soak stopped or killed it.
struct DaemonLife {
    let pid: pid_t
    let spawnedAt: Double
    var readyAt: Double?
    var endedAt: Double?
    /// "SIGTERM", "SIGKILL", or "exited N" when it died without being asked.
    var end = ""
}
