import CSQLite
import Glibc

/// The daemon's job table read directly (read-only), as users' scripts may: the checker's view of the queue.
final class JobTable {
    struct Row {
        let id: Int64
        let path: [UInt8]
        let state: String
        let lastError: String?
        let imageID: String?
        let variants: String?
        let sha256: String?
    }

    private var db: OpaquePointer?

    init?(path: String) {
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, nil) == SQLITE_OK else {
            sqlite3_close_v2(db)
            return nil
        }
        sqlite3_busy_timeout(db, 5000)
    }

    deinit { sqlite3_close_v2(db) }

    func query(_ sql: String, _ row: (OpaquePointer) -> Void) -> Bool {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK, let statement else { return false }
        defer { sqlite3_finalize(statement) }
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_ROW {
                row(statement)
                continue
            }
            return rc == SQLITE_DONE
        }
    }

    private static func text(_ statement: OpaquePointer, _ column: Int32) -> String? {
        guard sqlite3_column_type(statement, column) != SQLITE_NULL,
            let pointer = sqlite3_column_text(statement, column)
        else { return nil }
        return String(cString: pointer)
    }

    private static func blob(_ statement: OpaquePointer, _ column: Int32) -> [UInt8]? {
        guard sqlite3_column_type(statement, column) != SQLITE_NULL else { return nil }
        let count = Int(sqlite3_column_bytes(statement, column))
        guard count > 0, let pointer = sqlite3_column_blob(statement, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    func rows() -> [Row]? {
        var result: [Row] = []
        let ok = query("SELECT id, path, path_raw, state, last_error, image_id, variants, sha256 FROM jobs ORDER BY id")
        { s in
            let path = JobTable.blob(s, 2) ?? Array((JobTable.text(s, 1) ?? "").utf8)
            result.append(
                Row(
                    id: sqlite3_column_int64(s, 0), path: path, state: JobTable.text(s, 3) ?? "",
                    lastError: JobTable.text(s, 4), imageID: JobTable.text(s, 5), variants: JobTable.text(s, 6),
                    sha256: JobTable.text(s, 7)))
        }
        return ok ? result : nil
    }

    func counts() -> [String: Int]? {
        var result: [String: Int] = [:]
        let ok = query("SELECT state, count(*) FROM jobs GROUP BY state") { s in
            result[JobTable.text(s, 0) ?? "?"] = Int(sqlite3_column_int64(s, 1))
        }
        return ok ? result : nil
    }

    func integrityCheck() -> String {
        var lines: [String] = []
        let ok = query("PRAGMA integrity_check") { s in lines.append(JobTable.text(s, 0) ?? "") }
        return ok
            ? lines.joined(separator: "; ") : "integrity_check could not run: \(String(cString: sqlite3_errmsg(db)))"
    }
}

extension JobTable {
    /// Jobs whose after-upload action (move, sidecar, error report) is still owed.
    func owedActions() -> Int? {
        var count: Int?
        let ok = query("SELECT count(*) FROM jobs WHERE after_action IS NOT NULL") {
            count = Int(sqlite3_column_int64($0, 0))
        }
        return ok ? count : nil
    }
}
