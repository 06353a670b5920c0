import Synchronization

/// Every API request with how it was answered, for tests that assert "each file stored exactly once".
/// Entries are recorded when the reply is decided but reported in arrival order (by sequence number).
final class RequestLog: Sendable {
    private let entries = Mutex<[(sequence: UInt64, request: LoggedRequest)]>([])

    func record(sequence: UInt64, _ request: LoggedRequest) {
        entries.withLock { $0.append((sequence, request)) }
    }

    func snapshot() -> [LoggedRequest] {
        entries.withLock { $0 }.sorted { $0.sequence < $1.sequence }.map(\.request)
    }

    func removeAll() {
        entries.withLock { $0.removeAll() }
    }
}
