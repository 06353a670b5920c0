import ImagedropStore
import Logging

/// The daemon's session in the job table. Its start was recorded when the table was opened (`StartupStore`);
/// it is stopped once everything that takes or sends jobs has ended: the jobs still leased (cut short past the
/// grace period, or prepared and never sent) go back to the queue and the stop is recorded, so the next start
/// finds a clean stop and `status` says so; then the WAL is checkpointed whole, so the database file alone is the
/// table (a cold backup is one file). The metrics writer, stopped next, writes the queue as it is then.
final class JobTableComponent: Component {
    let name = "job table"
    private let store: JobStore
    private let logger: Logger

    init(_ store: JobStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    func start() {}

    func beginStop() {
        do {
            let released = try store.recoverLeases(expiredOnly: false)
            if released > 0 {
                logger.notice("in-flight jobs returned to the queue", metadata: ["count": "\(released)"])
            }
            try store.recordDaemonStop()
        } catch {
            logger.error("could not record the stop; the next start will recover", metadata: ["error": "\(error)"])
        }
        store.checkpointAtStop()
    }

    func wait(deadline: UInt64) -> Bool { true }
    var stopPatienceSeconds: Double { 0 }
}

@available(*, unavailable)
extension JobTableComponent: Sendable {}
