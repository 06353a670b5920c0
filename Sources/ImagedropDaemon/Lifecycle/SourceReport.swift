import ImagedropStore
import Logging

/// What the daemon says about its sources: which were added, changed or removed by a reload, and the jobs
/// of sources the config no longer names (kept queued, not uploaded, until the source returns).
struct SourceReport {
    let logger: Logger

    func logChanges(old: Config, new: Config, store: JobStore) {
        let before = Dictionary(uniqueKeysWithValues: old.resolvedSources.map { ($0.name, $0) })
        for source in new.resolvedSources {
            guard let previous = before[source.name] else {
                logger.notice(
                    "source added; its folders are watched and scanned",
                    metadata: [
                        "source": "\(source.name)", "paths": "\(source.watch.paths.joined(separator: ","))",
                    ])
                continue
            }
            if previous != source {
                logger.notice(
                    "source changed; its new rules apply to jobs not yet sent", metadata: ["source": "\(source.name)"])
            }
        }
        for name in old.sourceNames where !new.sourceNames.contains(name) {
            logger.warning(
                "source removed; its waiting jobs stay queued and are not uploaded until it returns",
                metadata: ["source": "\(name)"])
        }
        reportUnconfigured(new, store: store)
    }

    func reportUnconfigured(_ config: Config, store: JobStore) {
        let sources = SourceCounts(counts: (try? store.sourceCounts()) ?? [:], configured: config.sourceNames)
        for name in sources.unconfigured where sources.waiting(name) > 0 {
            logger.warning(
                "jobs of a source that is not configured are not uploaded",
                metadata: [
                    "source": "\(name)", "waiting": "\(sources.waiting(name))",
                ])
        }
    }

    static func unconfiguredText(store: JobStore, config: SharedConfig) -> String? {
        SourceCounts(counts: (try? store.sourceCounts()) ?? [:], configured: config.current.sourceNames)
            .waitingUnconfiguredText
    }
}
