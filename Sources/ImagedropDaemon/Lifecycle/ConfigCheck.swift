import FoundationEssentials
import Glibc
import ImagedropPipeline
import ImagedropStore
import Logging

/// `imagedrop check`: config, folders, database and token, in that order, each printed as it passes; the
/// first failure decides the exit code (78 config, 77 database not writable, 69 API unreachable or token
/// refused). It creates nothing: a database folder that does not exist is a typo to report, not to make. It is the unit's
/// ExecStartPre, so a broken setup fails before the daemon starts.
package struct ConfigCheck {
    package let configPath: String
    package let environment: [String: String]
    package let offline: Bool

    package init(
        configPath: String, environment: [String: String] = ProcessInfo.processInfo.environment, offline: Bool = false
    ) {
        self.configPath = configPath
        self.environment = environment
        self.offline = offline
    }

    package static let longestBudgetWaitMillis: Int64 = 30_000

    package func run(say: (String) -> Void) -> (Daemon.Exit, String?) {
        let config: Config
        do { config = try ConfigLoader.load(path: configPath) } catch { return (.config, "\(error)") }
        say("config:   \(configPath) OK")
        for source in config.resolvedSources {
            let key = source.name == SourceSettings.defaultName ? "watch.paths" : "source \"\(source.name)\".paths"
            for path in source.watch.paths {
                guard access(path, R_OK | X_OK) == 0 else {
                    return (
                        .config,
                        ConfigError(file: configPath, key: key, problem: "\"\(path)\" is not readable by this user")
                            .description
                    )
                }
                say("watch:    \(path) OK" + (config.resolvedSources.count > 1 ? " (source \"\(source.name)\")" : ""))
            }
        }
        let store: JobStore?
        switch DatabaseCheck(database: config.queue.database).run() {
        case .failure(let failure):
            // Permissions are not config errors: the path is right, its owner or mode is what to fix.
            if failure.isPermission { return (.noPermission, "queue.database: \(failure.problem)") }
            return (.config, ConfigError(file: configPath, key: "queue.database", problem: failure.problem).description)
        case .success(let opened):
            store = opened.store
            say("database: \(opened.summary)")
        }
        let source = TokenSource(config: config, environment: environment)
        if let conflict = source.conflict {
            return (.config, ConfigError(file: configPath, key: nil, problem: conflict).description)
        }
        let token: APIToken
        do { token = try source.load() } catch { return (.config, "config error: \(error)") }
        say("token:    from \(source.sourceDescription)")
        if let warning = source.exposureWarning { say("warning:  \(warning)") }
        if offline { return (.ok, nil) }

        // The same budget as the daemon's, through the same request log: `check` is the unit's ExecStartPre,
        // so the daemon that starts next knows about these requests. A budget the last run spent is waited
        // out briefly; a longer wait is 69 (systemd retries after RestartSec) rather than a silent hang past
        // the start timeout.
        // With [fleet], the fleet's: check's requests count against the budget every host shares.
        let limiter: any RequestBudget =
            if let fleet = config.fleet {
                FleetBudget(fleet, config: config, token: token, logger: Logger(label: "imagedrop.check"))
            } else {
                RateLimiter(
                    limit: config.upload.requestsPer5Min, windowSeconds: Double(config.upload.rateWindowSeconds),
                    ledger: store.map { RequestLedger(store: $0) })
            }
        // Token verify (the user route, and the account route after a refusal there), then the write probe.
        let wait = limiter.waitMillis(requests: Self.mostRequests)
        if wait > Self.longestBudgetWaitMillis {
            return (
                .unavailable,
                "request budget spent: recent requests leave too few of upload.requests_per_5min "
                    + "(\(config.upload.requestsPer5Min) per \(config.upload.rateWindowSeconds) s) for check's "
                    + "\(Self.mostRequests); possible again in \((wait + 999) / 1000) s"
            )
        }
        if wait > 0 { say("budget:   waiting \((wait + 999) / 1000) s for the request budget") }
        // The grants reserved for check's requests and not used go back, so the daemon that starts right
        // after (the unit's ExecStart) has its whole budget.
        defer { limiter.returnUnusedReservation() }
        let client = ImagesClient(
            endpoint: .init(
                apiBaseURL: config.cloudflare.apiBaseURL, accountID: config.cloudflare.accountID,
                timeoutSeconds: min(config.upload.requestTimeoutSeconds, 30), caFile: config.cloudflare.caFile))
        let admission = RequestAdmission(budget: limiter)
        // The token-verify routes know only tokens: a Global API Key is proven by an Images read instead.
        let verify: ImagesClient.TokenVerification
        do {
            verify =
                token.isGlobalKey
                ? .init(reply: try client.probeImagesAccess(token: token, admission: admission), owner: nil)
                : try client.verifyToken(token: token, admission: admission)
        } catch { return (.unavailable, "stopped") }
        switch verify.reply.classification {
        case .success:
            say("api:      \(config.cloudflare.apiBaseURL) reachable; " + Self.accepted(token, verify))
        case .credentials(let reason, _), .permanent(let reason, _):
            return (
                .unavailable,
                "\(token.isGlobalKey ? "Global API Key" : "token") refused by \(config.cloudflare.apiBaseURL): "
                    + Self.refusal(reason, verify, client: client)
            )
        case .transient(let reason, _, _, _):
            return (.unavailable, "API unreachable at \(config.cloudflare.apiBaseURL): \(reason)")
        case .alreadyExists, .quota: return (.unavailable, "unexpected reply from token verify")
        }
        guard let write = try? client.probeWriteAccess(token: token, admission: admission) else {
            return (.unavailable, "stopped")
        }
        switch write.classification {
        case .permanent, .success:
            say("images:   token may write Images on account \(config.cloudflare.accountID)")
        case .quota(let reason, _):
            // The token may write; the account has no room. Not a reason to keep the daemon from starting:
            // its queue pauses and resumes by itself when there is room.
            say("images:   token may write Images on account \(config.cloudflare.accountID)")
            say("warning:  \(PauseNotice.text(reason, kind: .quota)); uploads wait until the account has room")
        case .credentials(let reason, _):
            return (.unavailable, "token may not write Images on account \(config.cloudflare.accountID): \(reason)")
        case .transient(let reason, _, _, _): return (.unavailable, "API unreachable: \(reason)")
        case .alreadyExists: return (.unavailable, "unexpected reply to the write probe")
        }
        return (.ok, nil)
    }

    /// Verify (at most two routes) and the write probe.
    package static let mostRequests = 3

    private static func accepted(_ token: APIToken, _ verify: ImagesClient.TokenVerification) -> String {
        if token.isGlobalKey { return "Global API Key accepted" }
        switch verify.owner {
        case .account?: return "token active (account-owned: verified at /accounts/…/tokens/verify)"
        default: return "token active"
        }
    }

    /// Both routes' answers when both were asked: an account token on the wrong account reads differently at each.
    private static func refusal(
        _ reason: String, _ verify: ImagesClient.TokenVerification, client: ImagesClient
    ) -> String {
        guard let user = verify.userRouteRefusal else { return reason }
        return "\(user) at /user/tokens/verify; \(reason) at /accounts/\(client.endpoint.accountID)/tokens/verify"
    }
}
