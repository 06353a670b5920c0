import CSQLite
import Glibc

/// Reads the trigger-maintained `job_counts` table of a daemon's database, read-only, through one prepared
/// statement: cheap enough to poll every few milliseconds without disturbing the daemon.
package final class JobCounts {
    private var db: OpaquePointer?
    private var statement: OpaquePointer?
    package let path: String

    package init(path: String) { self.path = path }

    deinit {
        sqlite3_finalize(statement)
        sqlite3_close_v2(db)
    }

    /// Counts by state plus "total"; nil while the database or its schema does not exist yet.
    package func read() -> [String: Int]? {
        if statement == nil {
            guard access(path, F_OK) == 0 else { return nil }
            if db == nil {
                guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, nil) == SQLITE_OK else {
                    sqlite3_close_v2(db)
                    db = nil
                    return nil
                }
                sqlite3_busy_timeout(db, 2000)
            }
            guard sqlite3_prepare_v2(db, "SELECT state, n FROM job_counts", -1, &statement, nil) == SQLITE_OK else {
                sqlite3_finalize(statement)
                statement = nil
                return nil
            }
        }
        var counts: [String: Int] = [:]
        var total = 0
        defer { sqlite3_reset(statement) }
        while sqlite3_step(statement) == SQLITE_ROW {
            let state = String(cString: sqlite3_column_text(statement, 0))
            let n = Int(sqlite3_column_int64(statement, 1))
            counts[state] = n
            total += n
        }
        counts["total"] = total
        return counts
    }

    package func done() -> Int { read()?["done"] ?? 0 }
    package func total() -> Int { read()?["total"] ?? 0 }
    package func finished() -> Int {
        guard let counts = read() else { return 0 }
        return (counts["done"] ?? 0) + (counts["failed"] ?? 0)
    }
}
