import Glibc
import ImagedropSystem

/// Why a reader (`status`, `list`, `show`, `export`) could not read the job table. A reader never answers
/// from a table it could not read: zero counts would tell a monitoring script that all is well while the
/// daemon's table is, say, unreadable to the operator's user. The kind decides the exit code (77 for
/// permissions, 65 for the rest); the description is the one line the operator sees.
package struct TableReadError: Error, CustomStringConvertible, Sendable {
    package enum Kind: Sendable, Equatable {
        /// This user may not read the file, its -wal/-shm files, or enter its folder.
        case permission
        /// The folder `queue.database` names does not exist (a typo, or a state folder never made).
        case missingFolder
        /// Anything else: not a database, damaged, not a regular file, an I/O error.
        case unreadable
    }

    package let kind: Kind
    package let database: String
    package let reason: String

    package init(_ kind: Kind, database: String, reason: String) {
        self.kind = kind
        self.database = database
        self.reason = reason
    }

    package var description: String { "cannot read database \(database): \(reason)" }

    /// A permission problem on `path` (the database, a side file or its folder), with what to change: the
    /// owner and mode as they are, and who is asking.
    static func permission(database: String, path: String) -> TableReadError {
        var info = stat()
        let owner =
            stat(path, &info) == 0
            ? "\(path) is owned by uid \(info.st_uid), gid \(info.st_gid), mode \(String(info.st_mode & 0o7777, radix: 8))"
            : "\(path) cannot be looked at"
        return TableReadError(
            .permission, database: database,
            reason: """
                permission denied for uid \(getuid()) (gid \(getgid())): \(owner); run as its owner, or give this user \
                read access (the daemon creates the table 0640: a member of its group may read it)
                """)
    }

    /// An error met while opening or reading the table, classified by SQLite's result code.
    static func classify(_ error: any Error, database: String) -> TableReadError {
        if let error = error as? TableReadError { return error }
        guard let sqlite = error as? SQLiteError else {
            return TableReadError(.unreadable, database: database, reason: "\(error)")
        }
        switch sqlite.kind {
        case .notWritable:
            // A reader is refused write access only where SQLite needs it to read a WAL table: creating the
            // -shm file, or recovering a WAL the daemon left (its folder is not writable to this user).
            return permission(database: database, path: RawPath(database).parent.display)
        case .corrupt:
            return TableReadError(
                .unreadable, database: database, reason: "\(sqlite.message) (SQLite code \(sqlite.code))")
        default:
            return TableReadError(.unreadable, database: database, reason: "\(sqlite)")
        }
    }
}
