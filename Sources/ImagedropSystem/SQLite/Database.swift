import CSQLite
import Glibc

/// One SQLite connection. Not thread-safe by itself: JobStore keeps it behind a Mutex.
package final class Database {
    package let handle: OpaquePointer
    package let path: String
    private var statements: [StatementKey: Statement] = [:]
    private var closed = false

    /// Opens (creating if asked) the database file in WAL mode with a busy timeout, so readers such as
    /// `imagedrop status` never block the daemon and the daemon waits out a reader's short lock instead of failing.
    package init(path: String, readOnly: Bool = false, create: Bool = true) throws {
        var db: OpaquePointer?
        var flags = SQLITE_OPEN_NOMUTEX
        if readOnly {
            flags |= SQLITE_OPEN_READONLY
        } else {
            flags |= SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0)
        }
        if !readOnly, create { try Self.createFile(path) }
        _ = Self.configured
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(code: rc, message: message, sql: nil, database: path)
        }
        self.handle = db
        self.path = path
        // Extended codes are what SQLiteError.kind classifies by (SQLITE_IOERR_WRITE is a full disk,
        // SQLITE_IOERR_READ is not).
        try check(sqlite3_extended_result_codes(db, 1), "sqlite3_extended_result_codes")
        try check(sqlite3_busy_timeout(db, 5000), "sqlite3_busy_timeout")
        if !readOnly {
            try execute("PRAGMA journal_mode=WAL")
            // NORMAL in WAL mode: a commit is durable against a process crash (kill -9) and never corrupts the
            // database; only an OS crash or power loss can roll back the last transactions. Losing those is
            // safe here: a job whose `done` was lost is re-uploaded under the same content-hash id and the
            // API answers 409, so no image is duplicated; FULL would cost ~4× per claim (measured 230 vs 55 µs).
            try execute("PRAGMA synchronous=NORMAL")
            // Checkpoint at ~1 MiB of WAL (default ~4 MiB) and truncate it back to 1 MiB afterwards: the WAL is
            // what fills a small disk first, and a WAL that filled the disk cannot be checkpointed (the
            // database file has no room to grow), so the daemon would stay stuck after space returned.
            try execute("PRAGMA wal_autocheckpoint=256")
            try execute("PRAGMA journal_size_limit=1048576")
        }
        try execute("PRAGMA foreign_keys=ON")
    }

    /// Process-wide SQLite settings, made once before the first open (see the shim for why).
    private static let configured: Int32 = imagedrop_sqlite3_config_process()

    /// The bytes SQLite counts as allocated: 0 in this process, whose settings keep no memory statistics.
    package static var memoryCounted: Int64 { sqlite3_memory_used() }

    /// The job table is created 0640 whatever the umask: the daemon writes it, the `imagedrop` group (operators
    /// running `status`, `show`, `export`) may read it, nobody else. SQLite gives the -wal and -shm files the
    /// database file's own mode, so the three match. An existing file keeps the mode its owner chose.
    package static let fileMode: mode_t = 0o640

    private static func createFile(_ path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, fileMode)
        if fd < 0 {
            if errno == EEXIST { return }
            throw SQLiteError(
                code: SQLITE_CANTOPEN, message: "cannot create \(path): \(String(cString: strerror(errno)))", sql: nil,
                database: path)
        }
        defer { Glibc.close(fd) }
        // open() applied the umask; fchmod does not.
        guard fchmod(fd, fileMode) == 0 else {
            throw SQLiteError(
                code: SQLITE_CANTOPEN, message: "cannot set the mode of \(path): \(String(cString: strerror(errno)))",
                sql: nil, database: path)
        }
    }

    deinit {
        if !closed {
            statements.removeAll()
            sqlite3_close_v2(handle)
        }
    }

    package func close() {
        guard !closed else { return }
        statements.removeAll()
        sqlite3_close_v2(handle)
        closed = true
    }

    private func check(_ rc: Int32, _ call: String) throws {
        guard rc == SQLITE_OK else {
            throw SQLiteError(
                code: rc, message: "\(call): \(String(cString: sqlite3_errstr(rc)))", sql: nil, database: path)
        }
    }

    /// Runs one or more statements that return no rows.
    package func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &error)
        if rc != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? lastMessage
            sqlite3_free(error)
            throw SQLiteError(code: rc, message: message, sql: sql, database: path)
        }
    }

    /// A statement prepared once per connection and reused: the hot paths (claim, insert) never re-parse SQL.
    package func cached(_ sql: String) throws -> Statement {
        let key = StatementKey(sql: sql)
        if let statement = statements[key] {
            statement.reset()
            return statement
        }
        let statement = try Statement(database: self, sql: sql)
        statements[key] = statement
        return statement
    }

    /// A one-off statement (not cached), for rarely used queries such as export or migrations.
    package func prepare(_ sql: String) throws -> Statement {
        try Statement(database: self, sql: sql)
    }

    /// Runs `body` in an IMMEDIATE transaction, so the write lock is taken up front and a concurrent writer
    /// waits on busy_timeout instead of failing half-way through.
    package func transaction<T>(_ body: () throws -> T) throws -> T {
        try transaction(begin: "BEGIN IMMEDIATE", body)
    }

    /// One consistent snapshot for several reads, on a connection that may be read-only (which cannot take the
    /// write lock `transaction` begins with): what a dry run reads to decide exactly as the real run would.
    package func readTransaction<T>(_ body: () throws -> T) throws -> T {
        try transaction(begin: "BEGIN DEFERRED", body)
    }

    /// BEGIN and COMMIT are statements prepared once like any other: through `sqlite3_exec` each was parsed
    /// again, twice per grouped write of the workers' transitions.
    private func transaction<T>(begin: String, _ body: () throws -> T) throws -> T {
        try cached(begin).run()
        do {
            let value = try body()
            try cached("COMMIT").run()
            return value
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Resets every statement left mid-result (a `SELECT` read for its first row only). An active statement
    /// keeps a read transaction open on an old snapshot: the next write would then fail with
    /// SQLITE_BUSY_SNAPSHOT as soon as another process (`imagedrop enqueue`) had written, and checkpoints
    /// could not complete. JobStore calls this after every use of the connection.
    package func resetActiveStatements() {
        var statement = sqlite3_next_stmt(handle, nil)
        while let current = statement {
            if sqlite3_stmt_busy(current) != 0 { sqlite3_reset(current) }
            statement = sqlite3_next_stmt(handle, current)
        }
    }

    /// Keeps the -wal and -shm files when the daemon closes the database, so a user who may read the state
    /// folder but not write it can still open it read-only (SQLite cannot create them for such a reader).
    package func persistWAL() throws {
        var on: Int32 = 1
        try check(
            sqlite3_file_control(handle, "main", SQLITE_FCNTL_PERSIST_WAL, &on), "sqlite3_file_control(PERSIST_WAL)")
    }

    package var changes: Int { Int(sqlite3_changes(handle)) }
    package var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
    package var lastMessage: String { String(cString: sqlite3_errmsg(handle)) }

    package var userVersion: Int {
        get throws {
            let statement = try prepare("PRAGMA user_version")
            guard try statement.step() else { return 0 }
            return statement.int(0)
        }
    }
}

@available(*, unavailable)
extension Database: Sendable {}
