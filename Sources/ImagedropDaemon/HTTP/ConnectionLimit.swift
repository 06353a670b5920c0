import ImagedropParsing
import Logging
import NIOCore
import Synchronization

/// `[http] max_connections` for the endpoint: `ConnectionCount` behind a lock, and the two log lines per burst
/// of refusals (one when it starts, one with the count when connections are admitted again), so a flood of
/// connections does not become a flood of log lines.
final class ConnectionLimit: Sendable {
    struct Refused: Error, CustomStringConvertible {
        var description: String { "connection refused: max_connections reached" }
    }

    private let count: Mutex<ConnectionCount>
    private let logger: Logger

    init(limit: Int, logger: Logger) {
        count = Mutex(ConnectionCount(limit: limit))
        self.logger = logger
    }

    /// Whether `channel` may stay open; when it may, its closing is counted too.
    func admit(_ channel: any Channel) -> Bool {
        let (admission, limit) = count.withLock { ($0.opening(), $0.limit) }
        switch admission {
        case .refuse(let firstOfBurst):
            if firstOfBurst {
                logger.warning(
                    "http: max_connections reached; closing new connections until one ends",
                    metadata: ["max_connections": "\(limit)"])
            }
            return false
        case .admit(let refusedBefore):
            if refusedBefore > 0 {
                logger.notice(
                    "http: accepting connections again",
                    metadata: [
                        "refused": "\(refusedBefore)",
                        "max_connections": "\(limit)",
                    ])
            }
            channel.closeFuture.whenComplete { _ in self.count.withLock { $0.closed() } }
            return true
        }
    }
}
