import CSQLite
import Glibc

/// A failed SQLite call: the result code, SQLite's own message, the statement it came from and the database
/// file. Conditions an operator fixes outside imagedrop (permissions, a full disk, a vanished folder) are
/// described by what to fix, not by the statement that met them.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    public let code: Int32
    public let message: String
    public let sql: String?
    public let database: String?

    public init(code: Int32, message: String, sql: String?, database: String? = nil) {
        self.code = code
        self.message = message
        self.sql = sql
        self.database = database
    }

    public var description: String {
        if let advice { return advice }
        if let sql { return "SQLite error \(code): \(message) (in \(sql.prefix(80)))" }
        return "SQLite error \(code): \(message)"
    }

    /// The primary result code (extended codes carry the primary one in their low byte).
    public var primaryCode: Int32 { code & 0xFF }

    /// SQLITE_FULL or an I/O error while writing: the disk is full or failing, and the write can be retried later.
    public var isDiskFull: Bool { primaryCode == SQLITE_FULL || (primaryCode == SQLITE_IOERR && message.contains("disk")) }

    /// The database (or the folder SQLite must create its -wal/-shm files in) may not be written by this user.
    public var isNotWritable: Bool {
        primaryCode == SQLITE_READONLY || primaryCode == SQLITE_PERM || primaryCode == SQLITE_AUTH
            || (primaryCode == SQLITE_CANTOPEN && database != nil)
    }

    private var advice: String? {
        guard let database else { return nil }
        let folder = RawPath(database).parent.display
        let user = "this process runs as uid \(getuid()), gid \(getgid())"
        switch primaryCode {
        case SQLITE_READONLY, SQLITE_PERM, SQLITE_AUTH:
            return "database \(database) is read-only: check the owner/mode of \(database), its -wal/-shm files "
                + "and its folder \(folder) (\(user); SQLite: \(message))"
        case SQLITE_CANTOPEN:
            return "cannot open database \(database): check that its folder \(folder) exists, and the owner/mode of "
                + "\(database), its -wal/-shm files and \(folder) (\(user); SQLite: \(message))"
        case SQLITE_FULL:
            return "database \(database): the disk is full: free space on the filesystem of \(folder) (SQLite: \(message))"
        case SQLITE_IOERR:
            return "database \(database): I/O error (\(message)): check the disk holding \(folder) "
                + "(kernel log), and that the file was not removed"
        default:
            return nil
        }
    }
}
