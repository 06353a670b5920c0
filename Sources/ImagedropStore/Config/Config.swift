/// The whole configuration, with the defaults of DESIGN.md. Loaded by `ConfigLoader`; every key's name in
/// the TOML file is given next to its field.
public struct Config: Sendable, Equatable {
    public var cloudflare = Cloudflare()
    public var images = Images()
    public var watch = Watch()
    public var queue = Queue()
    public var upload = Upload()
    public var afterUpload = AfterUpload()
    public var log = Log()
    public var metrics = Metrics()
    public var webhook = Webhook()
    public var http = HTTP()
    /// nil: this host alone (no `[fleet]`).
    public var fleet: Fleet?
    /// Every source with its effective settings (`[[source]]` tables, and `default` for the top-level
    /// `[watch] paths`), in file order. `watch.paths` holds all of their folders; a job's own rules are
    /// `effective(for:)` / `scoped(to:)` (SourceSettings.swift).
    public var sources: [SourceSettings] = []
    /// The file this was read from, for messages.
    public var sourcePath: String = ""

    public init() {}

    public struct Cloudflare: Sendable, Equatable {
        public init() {}
        public var accountID = ""                                        // account_id (required)
        public var apiBaseURL = "https://api.cloudflare.com/client/v4"   // api_base_url
        public var apiTokenFile: String?                                 // api_token_file
        public var apiEmail: String?                                     // api_email: use the Global API Key
        public var apiKeyFile: String?                                   // api_key_file
        public var batchAPI = false                                      // batch_api
        public var batchBaseURL = "https://batch.imagedelivery.net"      // batch_base_url
        public var caFile: String?                                       // ca_file (addition): CA bundle, e.g. a TLS proxy's
    }

    public enum IDMode: String, Sendable, Equatable, CaseIterable {
        case contentHash = "content-hash", path, cloudflare
    }

    public struct Images: Sendable, Equatable {
        public init() {}
        public var idMode: IDMode = .contentHash     // id
        public var idPrefix = ""                      // id_prefix
        public var requireSignedURLs = false          // require_signed_urls
        public var creator: String?                   // creator
        public var metadataJSON: String?              // metadata (inline table), kept as compact JSON
        /// Not a key: the watch roots whose path ids share one id space (the source's own, and those of other
        /// path-id sources with the same id_prefix); empty means `watch.paths`. Set by source resolution.
        public var idRoots: [String] = []
    }

    public struct Watch: Sendable, Equatable {
        public init() {}
        public var paths: [String] = ["/srv/imagedrop/inbox"]   // paths (required)
        public var recursive = true
        public var include = ["*.jpg", "*.jpeg", "*.png", "*.gif", "*.webp", "*.svg", "*.heic", "*.avif"]
        public var exclude = [".*", "*.tmp", "*.part", "*.crdownload", "*~"]
        public var settleMillis = 1000                 // settle_ms
        public var rescanIntervalSeconds = 600         // rescan_interval_s
        public var followSymlinksOutside = false       // follow_symlinks_outside (addition)
    }

    public struct Queue: Sendable, Equatable {
        public init() {}
        public var database = "/var/lib/imagedrop/jobs.sqlite3"
    }

    public struct Upload: Sendable, Equatable {
        public init() {}
        /// `workers`: nil is "auto" (the default: `AdaptiveConcurrency` picks 1…`maxWorkers`); a number pins it.
        public var fixedWorkers: Int?
        public var maxWorkers = 64                      // max_workers: the cap of "auto"
        /// The config value as the log shows it.
        public var workersShown: String { fixedWorkers.map(String.init) ?? "auto (max \(maxWorkers))" }
        public var maxAttempts = 8                      // max_attempts
        public var backoffInitialMillis = 1000          // backoff_initial_ms
        public var backoffMaxMillis = 300_000           // backoff_max_ms
        public var requestTimeoutSeconds = 120          // request_timeout_s
        public var shutdownGraceSeconds = 30            // shutdown_grace_s
        public var requestsPer5Min = 1200               // requests_per_5min (0 = unlimited): requests per window
        public var rateWindowSeconds = 300              // rate_window_s (addition): the budget's window; 300 = 5 min
        public var pauseProbeSeconds = 30               // pause_probe_s (addition): re-probe a refused token
    }

    public enum SuccessAction: String, Sendable, Equatable, CaseIterable { case keep, delete, move }
    public enum FailureAction: String, Sendable, Equatable, CaseIterable { case keep, move }

    public struct AfterUpload: Sendable, Equatable {
        public init() {}
        public var onSuccess: SuccessAction = .keep     // on_success
        public var onFailure: FailureAction = .keep     // on_failure
        public var doneDir: String?                     // done_dir
        public var failedDir: String?                   // failed_dir
        public var sidecar = false
    }

    public enum LogFormat: String, Sendable, Equatable, CaseIterable { case auto, text, json, journal }

    public struct Log: Sendable, Equatable {
        public init() {}
        public var level = "info"                       // level: trace|debug|info|notice|warning|error|critical
        public var format: LogFormat = .auto            // format: auto (journal under systemd, else text) | text | json
    }

    public struct Metrics: Sendable, Equatable {
        public init() {}
        public var textfile: String?                    // textfile: Prometheus textfile-collector output path
        public var intervalSeconds = 15                 // interval_s
    }
}
