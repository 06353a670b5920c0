import CSQLite

/// A prepared statement; finalized in deinit. Bind with 1-based indexes, read columns with 0-based ones.
package final class Statement {
    private let handle: OpaquePointer
    private unowned let database: Database
    package let sql: String

    package init(database: Database, sql: String) throws {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(database.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else {
            throw SQLiteError(code: rc, message: database.lastMessage, sql: sql, database: database.path)
        }
        self.handle = statement
        self.database = database
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    /// The first bind that SQLite refused since the last reset (SQLITE_RANGE: a wrong index, SQLITE_TOOBIG,
    /// SQLITE_NOMEM). Binds stay chainable; `step` throws this instead of running with a missing value.
    private var bindFailure: SQLiteError?

    package func reset() {
        // sqlite3_reset repeats the last step's error, which that step already threw.
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        bindFailure = nil
    }

    private func checkBind(_ rc: Int32, _ index: Int32) {
        guard rc != SQLITE_OK, bindFailure == nil else { return }
        bindFailure = SQLiteError(
            code: rc, message: "cannot bind parameter \(index): \(String(cString: sqlite3_errstr(rc)))",
            sql: sql, database: database.path)
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    @discardableResult
    package func bind(_ index: Int32, _ value: String?) -> Statement {
        checkBind(
            value.map { sqlite3_bind_text(handle, index, $0, -1, Self.transient) } ?? sqlite3_bind_null(handle, index),
            index)
        return self
    }

    @discardableResult
    package func bind(_ index: Int32, _ value: Int64?) -> Statement {
        checkBind(value.map { sqlite3_bind_int64(handle, index, $0) } ?? sqlite3_bind_null(handle, index), index)
        return self
    }

    @discardableResult
    package func bind(_ index: Int32, _ value: Int?) -> Statement {
        bind(index, value.map(Int64.init))
    }

    @discardableResult
    package func bind(_ index: Int32, blob: [UInt8]?) -> Statement {
        let rc =
            blob.map { bytes in
                bytes.withUnsafeBytes { raw in
                    sqlite3_bind_blob(handle, index, raw.baseAddress, Int32(raw.count), Self.transient)
                }
            } ?? sqlite3_bind_null(handle, index)
        checkBind(rc, index)
        return self
    }

    /// Advances to the next row; false when done. Throws on any error (SQLITE_BUSY after the busy timeout,
    /// SQLITE_FULL, constraint violations).
    package func step() throws -> Bool {
        if let bindFailure { throw bindFailure }
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let error = SQLiteError(code: rc, message: database.lastMessage, sql: sql, database: database.path)
            sqlite3_reset(handle)
            throw error
        }
    }

    /// Steps to completion, ignoring rows.
    package func run() throws {
        while try step() {}
    }

    package func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }
    package func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(handle, column)) }
    package func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    package func optionalInt(_ column: Int32) -> Int? { isNull(column) ? nil : int(column) }
    package func optionalInt64(_ column: Int32) -> Int64? { isNull(column) ? nil : int64(column) }

    package func string(_ column: Int32) -> String? {
        guard let text = sqlite3_column_text(handle, column) else { return nil }
        return String(cString: text)
    }

    package func blob(_ column: Int32) -> [UInt8]? {
        guard sqlite3_column_type(handle, column) != SQLITE_NULL else { return nil }
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let pointer = sqlite3_column_blob(handle, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}

@available(*, unavailable)
extension Statement: Sendable {}
