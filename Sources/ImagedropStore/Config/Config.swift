/// The whole configuration, with the defaults of DESIGN.md. Loaded by `ConfigLoader`; every key's name in
/// the TOML file is given next to its field.
package struct Config: Sendable, Equatable, CustomDebugStringConvertible {
    package var cloudflare: Cloudflare {
        get { box.sections.cloudflare }
        set { unique().sections.cloudflare = newValue }
    }
    package var images: Images {
        get { box.sections.images }
        set { unique().sections.images = newValue }
    }
    package var watch: Watch {
        get { box.sections.watch }
        set { unique().sections.watch = newValue }
    }
    package var queue: Queue {
        get { box.sections.queue }
        set { unique().sections.queue = newValue }
    }
    package var upload: Upload {
        get { box.sections.upload }
        set { unique().sections.upload = newValue }
    }
    package var afterUpload: AfterUpload {
        get { box.sections.afterUpload }
        set { unique().sections.afterUpload = newValue }
    }
    package var log: Log {
        get { box.sections.log }
        set { unique().sections.log = newValue }
    }
    package var metrics: Metrics {
        get { box.sections.metrics }
        set { unique().sections.metrics = newValue }
    }
    package var webhook: Webhook {
        get { box.sections.webhook }
        set { unique().sections.webhook = newValue }
    }
    package var http: HTTP {
        get { box.sections.http }
        set { unique().sections.http = newValue }
    }
    /// nil: this host alone (no `[fleet]`).
    package var fleet: Fleet? {
        get { box.sections.fleet }
        set { unique().sections.fleet = newValue }
    }
    /// Every source with its effective settings (`[[source]]` tables, and `default` for the top-level
    /// `[watch] paths`), in file order. `watch.paths` holds all of their folders; a job's own rules are
    /// `effective(for:)` / `scoped(to:)` (SourceSettings.swift).
    package var sources: [SourceSettings] {
        get { box.sections.sources }
        set { unique().sections.sources = newValue }
    }
    /// The file this was read from, for messages.
    package var sourcePath: String {
        get { box.sections.sourcePath }
        set { unique().sections.sourcePath = newValue }
    }

    package init() {}

    /// The sections, as the struct printed them before they moved into the box (test failures show configs).
    package var debugDescription: String { "Config(\(String(reflecting: box.sections)))" }

    package static func == (left: Config, right: Config) -> Bool {
        left.box === right.box || left.box.sections == right.box.sections
    }

    /// The sections live in one shared box, copied on write. Every job and request takes a snapshot of the
    /// configuration in force (a reload may replace it meanwhile): held inline, each snapshot was a copy of every
    /// section on the taker's stack (a worker's frames held several, up to 7.5 KiB each: a worker that had uploaded
    /// kept 40 KiB of stack resident, 28 now) and a retain of every string and array in them, from every worker at
    /// once. Now a snapshot is one reference.
    private var box = Box(Sections())

    private struct Sections: Sendable, Equatable {
        var cloudflare = Cloudflare()
        var images = Images()
        var watch = Watch()
        var queue = Queue()
        var upload = Upload()
        var afterUpload = AfterUpload()
        var log = Log()
        var metrics = Metrics()
        var webhook = Webhook()
        var http = HTTP()
        var fleet: Fleet?
        var sources: [SourceSettings] = []
        var sourcePath: String = ""
    }

    private final class Box: @unchecked Sendable {
        // @unchecked: `sections` is written only through `unique()`, while this Config alone holds the box.
        var sections: Sections
        init(_ sections: Sections) { self.sections = sections }
    }

    /// The box, made this Config's own first if another Config shares it.
    private mutating func unique() -> Box {
        if !isKnownUniquelyReferenced(&box) { box = Box(box.sections) }
        return box
    }

    package struct Cloudflare: Sendable, Equatable {
        package init() {}
        package var accountID = ""  // account_id (required)
        package var apiBaseURL = "https://api.cloudflare.com/client/v4"  // api_base_url
        package var apiTokenFile: String?  // api_token_file
        package var apiEmail: String?  // api_email: use the Global API Key
        package var apiKeyFile: String?  // api_key_file
        package var batchAPI = false  // batch_api
        package var batchBaseURL = "https://batch.imagedelivery.net"  // batch_base_url
        package var caFile: String?  // ca_file (addition): CA bundle, e.g. a TLS proxy's
    }

    package enum IDMode: String, Sendable, Equatable, CaseIterable {
        case contentHash = "content-hash"
        case path, cloudflare
    }

    package struct Images: Sendable, Equatable {
        package init() {}
        package var idMode: IDMode = .contentHash  // id
        package var idPrefix = ""  // id_prefix
        package var requireSignedURLs = false  // require_signed_urls
        package var creator: String?  // creator
        package var metadataJSON: String?  // metadata (inline table), kept as compact JSON
        /// Not a key: the watch roots whose path ids share one id space (the source's own, and those of other
        /// path-id sources with the same id_prefix); empty means `watch.paths`. Set by source resolution.
        package var idRoots: [String] = []
    }

    package struct Watch: Sendable, Equatable {
        package init() {}
        package var paths: [String] = ["/srv/imagedrop/inbox"]  // paths (required)
        package var recursive = true
        package var include = ["*.jpg", "*.jpeg", "*.png", "*.gif", "*.webp", "*.svg", "*.heic", "*.avif"]
        package var exclude = [".*", "*.tmp", "*.part", "*.crdownload", "*~"]
        package var settleMillis = 1000  // settle_ms
        package var rescanIntervalSeconds = 600  // rescan_interval_s
        package var followSymlinksOutside = false  // follow_symlinks_outside (addition)
    }

    package struct Queue: Sendable, Equatable {
        package init() {}
        package var database = "/var/lib/imagedrop/jobs.sqlite3"
    }

    package struct Upload: Sendable, Equatable {
        package init() {}
        /// `workers`: nil is "auto" (the default: `AdaptiveConcurrency` picks 1…`maxWorkers`); a number pins it.
        package var fixedWorkers: Int?
        package var maxWorkers = 64  // max_workers: the cap of "auto"
        /// The config value as the log shows it.
        package var workersShown: String { fixedWorkers.map(String.init) ?? "auto (max \(maxWorkers))" }
        package var maxAttempts = 8  // max_attempts
        package var backoffInitialMillis = 1000  // backoff_initial_ms
        package var backoffMaxMillis = 300_000  // backoff_max_ms
        package var requestTimeoutSeconds = 120  // request_timeout_s
        package var shutdownGraceSeconds = 30  // shutdown_grace_s
        package var requestsPer5Min = 1200  // requests_per_5min (0 = unlimited): requests per window
        package var rateWindowSeconds = 300  // rate_window_s (addition): the budget's window; 300 = 5 min
        package var pauseProbeSeconds = 30  // pause_probe_s (addition): re-probe a refused token
    }

    package enum SuccessAction: String, Sendable, Equatable, CaseIterable { case keep, delete, move }
    package enum FailureAction: String, Sendable, Equatable, CaseIterable { case keep, move }

    package struct AfterUpload: Sendable, Equatable {
        package init() {}
        package var onSuccess: SuccessAction = .keep  // on_success
        package var onFailure: FailureAction = .keep  // on_failure
        package var doneDir: String?  // done_dir
        package var failedDir: String?  // failed_dir
        package var sidecar = false
    }

    package enum LogFormat: String, Sendable, Equatable, CaseIterable { case auto, text, json, journal }

    package struct Log: Sendable, Equatable {
        package init() {}
        package var level = "info"  // level: trace|debug|info|notice|warning|error|critical
        package var format: LogFormat = .auto  // format: auto (journal under systemd, else text) | text | json
    }

    package struct Metrics: Sendable, Equatable {
        package init() {}
        package var textfile: String?  // textfile: Prometheus textfile-collector output path
        package var intervalSeconds = 15  // interval_s
    }
}
