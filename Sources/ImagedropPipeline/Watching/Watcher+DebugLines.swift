import ImagedropStore
import ImagedropSystem
import Logging

/// At `debug` level the watcher says what it did with each candidate it saw — ignored (and by which rule),
/// settling, queued, or already known — so "why was my file not uploaded?" is answered by the log as it
/// happens (`imagedrop show PATH` answers it afterwards, with the same rules: `NoJobReason`).
extension Watcher {
    package func logIgnored(_ path: RawPath, name: [UInt8], filter: PathFilter) {
        logger.debug(
            "candidate ignored",
            metadata: ["path": "\(path)", "reason": "\(filter.whyIgnored(name) ?? "not a candidate")"])
    }

    package func logIgnoredFolder(_ path: RawPath, name: [UInt8], filter: PathFilter) {
        let reason =
            filter.excludingPattern(name).map { "excluded by the pattern \"\($0)\" (watch.exclude)" } ?? "excluded"
        logger.debug("folder ignored", metadata: ["path": "\(path)", "reason": "\(reason)"])
    }

    package func logSettling(_ path: RawPath, settleNanos: UInt64) {
        logger.debug("candidate settling", metadata: ["path": "\(path)", "settle_ms": "\(settleNanos / 1_000_000)"])
    }

    package func logQueued(_ candidates: [FileCandidate], results: [EnqueueResult]) {
        for (candidate, result) in zip(candidates, results) {
            let path = "\(candidate.path)"
            switch result {
            case .inserted(let id):
                logger.debug(
                    "candidate queued", metadata: ["job": "\(id)", "path": "\(path)", "size": "\(candidate.size)"])
            case .updated(let id):
                logger.debug(
                    "candidate queued: a newer version for its waiting job",
                    metadata: ["job": "\(id)", "path": "\(path)", "size": "\(candidate.size)"])
            case .known(let id):
                logger.debug(
                    "candidate ignored: this version already has a job", metadata: ["job": "\(id)", "path": "\(path)"])
            case .alreadyStored:
                logger.debug(
                    "candidate ignored: this version was uploaded before (pruned history, stored_versions)",
                    metadata: ["path": "\(path)"])
            }
        }
    }
}
