import ImagedropSystem

/// The `request_log` table: how many API requests were sent (or reserved to be sent) in each wall-clock
/// second of the budget's window. RequestLedger is its only writer.
extension JobStore {
    /// Rows at or after `since`, oldest first. Rows dated after `latest` (the clock was set back since they
    /// were written) are folded into `latest` first, so a future-dated row delays the budget by one window
    /// at most instead of until the clock catches up; rows before `since` are deleted.
    package func requestCounts(since: Int64, latest: Int64) throws -> [(second: Int64, count: Int)] {
        try withDatabase { db in
            try db.transaction {
                let future = try db.cached("SELECT coalesce(sum(n), 0) FROM request_log WHERE second > ?1")
                future.bind(1, latest)
                let folded = try future.step() ? future.int64(0) : 0
                future.reset()
                if folded > 0 {
                    let drop = try db.cached("DELETE FROM request_log WHERE second > ?1")
                    drop.bind(1, latest)
                    try drop.run()
                    try Self.add(db, count: folded, second: latest)
                }
                let prune = try db.cached("DELETE FROM request_log WHERE second < ?1")
                prune.bind(1, since)
                try prune.run()
                let rows = try db.cached("SELECT second, n FROM request_log WHERE n > 0 ORDER BY second")
                var result: [(second: Int64, count: Int)] = []
                while try rows.step() { result.append((rows.int64(0), Int(clamping: rows.int64(1)))) }
                return result
            }
        }
    }

    /// One reservation: `count` more at `second`; the `unused` rest of the previous reservation taken back
    /// from `previousSecond`; seconds before `pruneBefore` forgotten. One transaction.
    package func recordRequests(
        _ count: Int, atSecond second: Int64, returning unused: Int, ofSecond previousSecond: Int64?,
        pruneBefore: Int64
    ) throws {
        try withDatabase { db in
            try db.transaction {
                try Self.add(db, count: Int64(count), second: second)
                if unused > 0, let previousSecond {
                    let give = try db.cached("UPDATE request_log SET n = max(0, n - ?1) WHERE second = ?2")
                    give.bind(1, Int64(unused)).bind(2, previousSecond)
                    try give.run()
                }
                let prune = try db.cached("DELETE FROM request_log WHERE second < ?1 OR n <= 0")
                prune.bind(1, pruneBefore)
                try prune.run()
            }
        }
    }

    private static func add(_ db: Database, count: Int64, second: Int64) throws {
        let add = try db.cached(
            """
            INSERT INTO request_log(second, n) VALUES (?1, ?2)
            ON CONFLICT(second) DO UPDATE SET n = n + excluded.n
            """)
        add.bind(1, second).bind(2, count)
        try add.run()
    }
}
