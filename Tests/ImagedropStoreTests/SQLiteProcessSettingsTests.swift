import ImagedropStoreTestSupport
import ImagedropSystem
import Testing

@testable import ImagedropStore

/// The process-wide settings `Database` makes before SQLite's first open (Sources/CSQLite/shim.h): applied, or
/// every allocation SQLite makes would take one process-wide mutex to count itself (issue 25: 2 % of the
/// instructions of a small-file run, and a lock every worker's statements share).
@Suite("SQLite's process settings")
struct SQLiteProcessSettingsTests {
    @Test("SQLite counts no memory: its statistics (and their process-wide mutex) are off")
    func noMemoryStatistics() throws {
        try withTemporaryStore { temporary in
            let store = temporary.store
            try store.enqueueInDrop((0..<20).map { "\($0).png" })
            #expect(try store.claim(leaseMillis: 60_000, upTo: 5).count == 5)
            #expect(Database.memoryCounted == 0)
        }
    }
}
