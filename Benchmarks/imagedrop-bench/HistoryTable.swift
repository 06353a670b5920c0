import ImagedropStore
import ImagedropSystem

/// A job table with a long history: the schema the daemon creates (through `JobStore`), then `rows` done
/// jobs inserted by one recursive INSERT in one transaction, uploads spread over the past year.
enum HistoryTable {
    static func create(path: String, rows: Int) throws {
        _ = try JobStore(path: path)  // creates the file and migrates the schema, exactly as the daemon does
        let database = try Database(path: path, create: false)
        defer { database.close() }
        let yearSeconds = 31_536_000
        let sql = """
            PRAGMA cache_size = -262144;
            BEGIN;
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(rows))
            INSERT INTO jobs (path, path_key, root_key, state, attempts, image_id, variants, size, mtime_ns, sha256,
                              job_key, next_attempt_at, created_at, updated_at, uploaded_at)
            SELECT p, CAST(p AS BLOB), CAST('/srv/history' AS BLOB), 'done', 1, 'drop/' || h,
                   '["https://imagedelivery.net/Vi7wi5KSItxGFsWRG2Us6Q/drop/' || h || '/public"]',
                   50000 + i % 1000, 1700000000000000000 + i, h, substr(h, 1, 32), 0, t, t, t
            FROM (SELECT i, '/srv/history/' || (i / 1000) || '/img' || printf('%08d', i) || '.jpg' AS p,
                         printf('%064x', i) AS h,
                         strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || ((\(rows) - i) * \(yearSeconds) / \(rows) + 3600) || ' seconds') AS t
                  FROM n);
            COMMIT;
            PRAGMA wal_checkpoint(TRUNCATE);
            """
        try database.execute(sql)
    }
}
