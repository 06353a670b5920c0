import Foundation
import ImagedropSystem
import ImagedropTestSupport
import Testing

/// `Database.cached` finds a prepared statement by a key hashed from its SQL's length, head and tail only
/// (`StatementKey`): statements that agree on all three must still be told apart by their whole text.
@Suite("The statement cache")
struct StatementCacheTests {
    @Test("two statements of one length, head and tail, different in the middle, are two statements")
    func sameHeadAndTail() throws {
        let folder = try TemporaryFolder()
        let db = try Database(path: folder.path + "/cache.db")
        let padding = String(repeating: " ", count: 40)
        let first = "SELECT 1" + padding + "+ 10" + padding + "AS value"
        let second = "SELECT 1" + padding + "+ 20" + padding + "AS value"
        #expect(first.utf8.count == second.utf8.count)
        for _ in 0..<3 {
            for (sql, expected) in [(first, Int64(11)), (second, Int64(21))] {
                let statement = try db.cached(sql)
                #expect(try statement.step())
                #expect(statement.int64(0) == expected)
            }
        }
        #expect(try db.cached(first) === db.cached(String(first)))
        #expect(try db.cached(first) !== db.cached(second))
    }
}
