import ImagedropStore
import Logging

/// The line a paused queue logs (once per reason): why, when it looks again, and what the operator can fix —
/// so "queue paused" is never a dead end. One place for every pause: a refused or missing credential, a full
/// image quota, and an API that cannot be reached.
package enum PauseNotice {
    /// The reason as `status` and the log show it: `token refused: …`, `quota reached: …`; an unreachable API's
    /// reason already says what failed.
    package static func text(_ reason: String, kind: PauseGate.Kind) -> String {
        switch kind {
        case .credentials: "token refused: \(reason)"
        case .quota: "quota reached: \(reason)"
        case .unreachable: reason
        }
    }

    package static func log(_ logger: Logger, reason: String, kind: PauseGate.Kind, config: Config) {
        let seconds = config.upload.pauseProbeSeconds
        logger.error(
            "queue paused; re-checking every \(seconds) s",
            metadata: [
                "reason": "\(reason)", "recheck_s": "\(seconds)",
                "fix": "\(fix(reason: reason, kind: kind, config: config))",
            ])
    }

    /// What to change. Nothing needs a restart: each re-check reads the credential source again and probes the API.
    package static func fix(reason: String, kind: PauseGate.Kind, config: Config) -> String {
        switch kind {
        case .quota:
            return "the account's Cloudflare Images quota is full: delete images or raise the plan's limit on account "
                + "\(config.cloudflare.accountID); every re-check reads GET …/images/v1/stats and the queue resumes by itself "
                + "when there is room (no job is failed or charged an attempt meanwhile)"
        case .unreachable:
            return "check the network path to \(config.cloudflare.apiBaseURL) (cloudflare.api_base_url): DNS, proxy, "
                + "firewall, TLS (cloudflare.ca_file, applied on reload); the queue resumes by itself at the first answer"
        case .credentials:
            if reason.hasPrefix("no API token") || reason.hasPrefix("no Global API Key")
                || reason.contains("cannot read")
                || reason.contains(" is empty")
            {
                return "provide the credential as the reason says; it is read again at each re-check, no restart needed"
            }
            return "the API refused the credential: check that it is current and allowed to edit Cloudflare Images on "
                + "account \(config.cloudflare.accountID) (`imagedrop check` verifies it); a replaced token file or "
                + "credential is read again at each re-check"
        }
    }
}
