import CSQLite

/// A failed SQLite call: the result code, SQLite's own message and the statement it came from.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    public let code: Int32
    public let message: String
    public let sql: String?

    public var description: String {
        if let sql { return "SQLite error \(code): \(message) (in \(sql.prefix(80)))" }
        return "SQLite error \(code): \(message)"
    }

    /// The primary result code (extended codes carry the primary one in their low byte).
    public var primaryCode: Int32 { code & 0xFF }

    /// SQLITE_FULL or an I/O error while writing: the disk is full or failing, and the write can be retried later.
    public var isDiskFull: Bool { primaryCode == SQLITE_FULL || (primaryCode == SQLITE_IOERR && message.contains("disk")) }
}
