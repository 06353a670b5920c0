import FoundationEssentials
import ImagedropSystem
import TOMLKit

/// Reads the TOML file into a `Config`, checking every key: unknown keys (so a typo is not silently
/// ignored), wrong types, out-of-range values, required keys, and the watch folders themselves.
package enum ConfigLoader {
    package static let defaultPath = "/etc/imagedrop/imagedrop.toml"

    /// `--config`, else `$IMAGEDROP_CONFIG`, else /etc/imagedrop/imagedrop.toml.
    package static func resolvePath(
        explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let fromEnv = environment["IMAGEDROP_CONFIG"], !fromEnv.isEmpty { return fromEnv }
        return defaultPath
    }

    package static func load(path given: String, checkFolders: Bool = true) throws -> Config {
        // Errors name the file by its absolute path: relative paths inside it are resolved against its folder.
        let path = RawPath.absolute(given).display
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist"
            throw ConfigError(file: path, key: nil, problem: "config file \(reason)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: path, key: nil, problem: "config file is not UTF-8 text")
        }
        return try parse(text, path: path, checkFolders: checkFolders)
    }

    package static func parse(_ text: String, path: String, checkFolders: Bool = true) throws -> Config {
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            let line = error.source.begin.line
            let column = error.source.begin.column
            throw ConfigError(
                file: path, key: nil, problem: "malformed TOML at line \(line), column \(column): \(error.description)")
        }
        var config = Config()
        config.sourcePath = path
        let top = TOMLSection(table: root, name: nil, file: path)
        try top.rejectUnknown(allowed: [
            "cloudflare", "images", "watch", "queue", "upload", "after_upload", "log", "metrics", "webhook", "http",
            "source", "fleet",
        ])

        let cf = try top.section("cloudflare")
        try cf.rejectUnknown(allowed: [
            "account_id", "api_base_url", "api_token_file", "api_email", "api_key_file", "batch_api",
            "batch_base_url", "ca_file",
        ])
        guard let accountID = try cf.string("account_id"), !accountID.isEmpty else {
            throw cf.error("account_id", "required (your Cloudflare account id, 32 hex digits)")
        }
        guard accountID.count == 32, accountID.allSatisfy(\.isHexDigit) else {
            throw cf.error("account_id", "must be 32 hex digits (got \(accountID.count) characters)")
        }
        config.cloudflare.accountID = accountID.lowercased()
        if let url = try cf.string("api_base_url") { config.cloudflare.apiBaseURL = try cf.url("api_base_url", url) }
        config.cloudflare.apiTokenFile = try cf.path("api_token_file")
        if let email = try cf.string("api_email") {
            guard email.contains("@"), email.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
                throw cf.error("api_email", "must be the account's email address (got \"\(email)\")")
            }
            if config.cloudflare.apiTokenFile != nil {
                throw cf.error(
                    "api_email",
                    "the Global API Key and an API token (api_token_file) are both configured; use one of them")
            }
            config.cloudflare.apiEmail = email
        }
        config.cloudflare.apiKeyFile = try cf.path("api_key_file")
        if config.cloudflare.apiKeyFile != nil, config.cloudflare.apiEmail == nil {
            throw cf.error(
                "api_key_file", "needs cloudflare.api_email (the Global API Key is sent with its account's email)")
        }
        config.cloudflare.batchAPI = try cf.bool("batch_api") ?? false
        if let url = try cf.string("batch_base_url") {
            config.cloudflare.batchBaseURL = try cf.url("batch_base_url", url)
        }
        if let caFile = try cf.string("ca_file") { config.cloudflare.caFile = try CAFile.validate(caFile, section: cf) }

        let images = try top.section("images")
        try images.rejectUnknown(allowed: Self.imagesKeys)
        config.images = try Self.images(images, over: config.images)

        let watch = try top.section("watch")
        try watch.rejectUnknown(allowed: Self.watchKeys.union(["paths"]))
        config.watch = try Self.watch(watch, over: config.watch)

        let queue = try top.section("queue")
        try queue.rejectUnknown(allowed: ["database"])
        if let database = try queue.string("database") {
            guard !database.isEmpty else { throw queue.error("database", "must not be empty") }
            config.queue.database = queue.resolvePath(database)
        }

        let upload = try top.section("upload")
        try upload.rejectUnknown(allowed: [
            "workers", "max_workers", "max_attempts", "backoff_initial_ms", "backoff_max_ms", "request_timeout_s",
            "shutdown_grace_s", "requests_per_5min", "rate_window_s", "pause_probe_s",
        ])
        config.upload.fixedWorkers = try Self.workers(upload)
        config.upload.maxWorkers = try upload.int("max_workers", min: 1, max: 256) ?? 64
        config.upload.maxAttempts = try upload.int("max_attempts", min: 1, max: 1000) ?? 8
        // At most a day: a wait longer than that is a typo, and the bound keeps every deadline arithmetic
        // (now + delay) far from overflow.
        config.upload.backoffInitialMillis = try upload.int("backoff_initial_ms", min: 1, max: 86_400_000) ?? 1000
        config.upload.backoffMaxMillis = try upload.int("backoff_max_ms", min: 1, max: 86_400_000) ?? 300_000
        guard config.upload.backoffMaxMillis >= config.upload.backoffInitialMillis else {
            throw upload.error(
                "backoff_max_ms", "must be at least backoff_initial_ms (\(config.upload.backoffInitialMillis))")
        }
        config.upload.requestTimeoutSeconds = try upload.int("request_timeout_s", min: 1, max: 3600) ?? 120
        config.upload.shutdownGraceSeconds = try upload.int("shutdown_grace_s", min: 0, max: 3600) ?? 30
        config.upload.requestsPer5Min = try upload.int("requests_per_5min", min: 0, max: 1_000_000) ?? 1200
        // `requests_per_5min` is "requests per window"; the window is five minutes unless an account (or a test
        // against the emulator) has a different one.
        config.upload.rateWindowSeconds = try upload.int("rate_window_s", min: 1, max: 86_400) ?? 300
        config.upload.pauseProbeSeconds = try upload.int("pause_probe_s", min: 1, max: 86_400) ?? 30

        let after = try top.section("after_upload")
        try after.rejectUnknown(allowed: Self.afterUploadKeys)
        config.afterUpload = try Self.afterUpload(after, over: config.afterUpload)
        // The sources last: each lays its own keys over the top-level values read above.
        try Self.resolveSources(top, watch: watch, after: after, config: &config, checkFolders: checkFolders)

        let log = try top.section("log")
        try log.rejectUnknown(allowed: ["level", "format"])
        if let level = try log.string("level") {
            guard LogLevelName.parse(level) != nil else {
                throw log.error(
                    "level", "must be one of trace, debug, info, notice, warning, error, critical (got \"\(level)\")")
            }
            config.log.level = level
        }
        if let format = try log.string("format") {
            guard let parsed = Config.LogFormat(rawValue: format) else {
                throw log.error("format", "must be \"auto\", \"text\", \"json\" or \"journal\" (got \"\(format)\")")
            }
            config.log.format = parsed
        }

        let metrics = try top.section("metrics")
        try metrics.rejectUnknown(allowed: ["textfile", "interval_s"])
        config.metrics.textfile = try metrics.path("textfile")
        config.metrics.intervalSeconds = try metrics.int("interval_s", min: 1, max: 86_400) ?? 15
        config.webhook = try Config.Webhook.parse(top.section("webhook"), readSecret: checkFolders)
        config.http = try Config.HTTP.parse(top.section("http"), readToken: checkFolders)
        config.fleet = try Config.Fleet.parse(top.section("fleet"), readSecret: checkFolders)
        return config
    }

    /// `upload.workers`: "auto" (nil) or a number that pins the pool's size.
    package static func workers(_ upload: TOMLSection) throws -> Int? {
        if let text = upload.table?["workers"]?.tomlValue.string {
            guard text == "auto" else {
                throw upload.error("workers", "must be \"auto\" or a whole number (got \"\(text)\"); allowed: 1 to 256")
            }
            return nil
        }
        do {
            return try upload.int("workers", min: 1, max: 256)
        } catch let error as ConfigError where error.problem.hasPrefix("must be a whole number") {
            throw upload.error(
                "workers",
                "must be \"auto\" or a whole number" + error.problem.dropFirst("must be a whole number".count))
        }
    }
}
