import CSQLite
import Glibc

/// A failed SQLite call: the result code, SQLite's own message, the statement it came from and the database
/// file. Conditions an operator fixes outside imagedrop (permissions, a full disk, a vanished folder) are
/// described by what to fix, not by the statement that met them.
package struct SQLiteError: Error, CustomStringConvertible, Sendable {
    package let code: Int32
    package let message: String
    package let sql: String?
    package let database: String?

    package init(code: Int32, message: String, sql: String?, database: String? = nil) {
        self.code = code
        self.message = message
        self.sql = sql
        self.database = database
    }

    package var description: String {
        if let advice { return advice }
        if let sql { return "SQLite error \(code): \(message) (in \(sql.prefix(80)))" }
        return "SQLite error \(code): \(message)"
    }

    /// The primary result code (extended codes carry the primary one in their low byte).
    package var primaryCode: Int32 { code & 0xFF }

    /// What the failure is about, by (extended) result code alone — never by SQLite's message text, which
    /// differs between versions and says "disk I/O error" for a missing file as much as for a full disk.
    package enum Kind: Sendable, Equatable {
        /// Another connection holds a lock (SQLITE_BUSY/SQLITE_LOCKED and their extended codes): wait and retry.
        case busy
        /// The filesystem would not take the bytes (SQLITE_FULL, or an I/O error while writing, syncing,
        /// truncating or growing the WAL index): retry once space returns.
        case diskFull
        /// Any other I/O error (reading, locking, a vanished file): the disk or the file needs looking at.
        case ioError
        /// This user may not write the database or the folder its -wal/-shm files live in.
        case notWritable
        /// The file is not a database, or is damaged (SQLITE_CORRUPT, SQLITE_NOTADB).
        case corrupt
        /// A constraint (UNIQUE, CHECK, FOREIGN KEY) refused the change: a bug in imagedrop's SQL or data.
        case constraint
        case other
    }

    package var kind: Kind {
        switch primaryCode {
        case SQLITE_BUSY, SQLITE_LOCKED: return .busy
        case SQLITE_FULL: return .diskFull
        case SQLITE_IOERR: return Self.writeIOErrors.contains(code) ? .diskFull : .ioError
        case SQLITE_READONLY, SQLITE_PERM, SQLITE_AUTH: return .notWritable
        case SQLITE_CANTOPEN: return database != nil ? .notWritable : .other
        case SQLITE_CORRUPT, SQLITE_NOTADB: return .corrupt
        case SQLITE_CONSTRAINT: return .constraint
        default: return .other
        }
    }

    /// The extended SQLITE_IOERR codes of a write the filesystem refused (ENOSPC and EDQUOT arrive as these),
    /// and the bare code an extended-codes-off connection reports. Spelt as sqlite3.h builds them
    /// (`SQLITE_IOERR | (n<<8)`): Swift does not import those macros.
    package static let writeIOErrors: Set<Int32> = [
        SQLITE_IOERR, extended(SQLITE_IOERR, 3) /* WRITE */, extended(SQLITE_IOERR, 4) /* FSYNC */,
        extended(SQLITE_IOERR, 5) /* DIR_FSYNC */, extended(SQLITE_IOERR, 6) /* TRUNCATE */,
        extended(SQLITE_IOERR, 19) /* SHMSIZE */, extended(SQLITE_IOERR, 21) /* SHMMAP */,
    ]

    package static func extended(_ primary: Int32, _ detail: Int32) -> Int32 { primary | (detail << 8) }

    /// The disk is full or refuses writes, and the write can be retried later.
    package var isDiskFull: Bool { kind == .diskFull }

    /// Another connection's lock: passes on its own.
    package var isBusy: Bool { kind == .busy }

    /// The database (or the folder SQLite must create its -wal/-shm files in) may not be written by this user.
    package var isNotWritable: Bool { kind == .notWritable }

    package var isCorrupt: Bool { kind == .corrupt }

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
            return
                "database \(database): the disk is full: free space on the filesystem of \(folder) (SQLite: \(message))"
        case SQLITE_IOERR:
            return "database \(database): I/O error (\(message)): check the disk holding \(folder) "
                + "(kernel log), and that the file was not removed"
        default:
            return nil
        }
    }
}
