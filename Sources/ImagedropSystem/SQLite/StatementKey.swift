/// A cached statement's SQL as a dictionary key hashed from its length and a few bytes, not all of them: hashing a
/// 300-byte statement's every byte on each lookup was 1.2 % of a small upload's instructions (docs/benchmarks.md,
/// issue 25). Equality still compares the whole text, so two statements that hash alike are told apart; the same
/// literal at one call site compares equal at once (its storage is the same).
struct StatementKey: Hashable {
    let sql: String

    static func == (lhs: StatementKey, rhs: StatementKey) -> Bool { lhs.sql == rhs.sql }

    func hash(into hasher: inout Hasher) {
        var sql = sql
        sql.withUTF8 { bytes in
            hasher.combine(bytes.count)
            // The head names the statement's kind and table, the tail its conditions: 32 bytes of each.
            hasher.combine(bytes: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes.prefix(32))))
            hasher.combine(bytes: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes.suffix(32))))
        }
    }
}
