import ImagedropSupport
import ImagedropSystem

/// The `api_block` table: the block a 429 set (until its Retry-After), kept so that a restart inside it does not
/// send. RequestLedger is its only writer.
extension JobStore {
    /// Keeps the later of the block already recorded and this one (two 429s: the longer wait wins).
    package func recordAPIBlock(untilMillis: Int64, lengthMillis: Int64) throws {
        try withDatabase { db in
            let upsert = try db.cached(
                """
                INSERT INTO api_block(id, until_ms, length_ms) VALUES (1, ?1, ?2)
                ON CONFLICT(id) DO UPDATE SET until_ms = excluded.until_ms, length_ms = excluded.length_ms
                WHERE excluded.until_ms > api_block.until_ms
                """)
            upsert.bind(1, untilMillis).bind(2, lengthMillis)
            try upsert.run()
        }
    }

    /// The recorded block, if any (ended or not).
    package func apiBlock() throws -> (untilMillis: Int64, lengthMillis: Int64)? {
        try withDatabase { db in
            let read = try db.cached("SELECT until_ms, length_ms FROM api_block WHERE id = 1")
            defer { read.reset() }
            return try read.step() ? (read.int64(0), read.int64(1)) : nil
        }
    }
}
