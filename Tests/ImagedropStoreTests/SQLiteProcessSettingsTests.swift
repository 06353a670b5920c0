import Foundation
import ImagedropStoreTestSupport
import ImagedropSystem
import ImagedropTestSupport
import Testing

@testable import ImagedropStore

/// The process-wide settings `Database` makes before SQLite's first open (Sources/CSQLite/shim.h): applied, or
/// every allocation SQLite makes would take one process-wide mutex to count itself (issue 25: 2 % of the
/// instructions of a small-file run, and a lock every worker's statements share), and a long transaction's
/// statement journal would move to a temporary file at 64 KiB and write every later statement's pages there.
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

    /// SQLite's temporary files, open and already unlinked (`/var/tmp/etilqs_… (deleted)`), by descriptor.
    static func temporaryFiles() throws -> Set<String> {
        var found: Set<String> = []
        for name in try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + name),
                target.contains("etilqs_")
            {
                found.insert(name + " " + target)
            }
        }
        return found
    }

    @Test("a statement journal past SQLite's 64 KiB (and under 256 KiB) stays in memory: no temporary file")
    func statementJournalInMemory() throws {
        let temp = try TemporaryFolder("imagedrop-store")
        let db = try Database(path: temp.database)
        try db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE, pad BLOB)")
        try db.transaction {
            for index in 0..<120 {
                try db.execute("INSERT INTO t (v, pad) VALUES ('v\(index)', zeroblob(1000))")
            }
        }
        let before = try Self.temporaryFiles()
        try db.transaction {
            // Inside a transaction, a statement that may fail halfway (the UNIQUE index) keeps the pages it
            // changes for its own rollback: ~33 pages here, about 135 KiB of statement journal each.
            try db.execute("UPDATE t SET v = v || '.', pad = randomblob(1000)")
            try db.execute("UPDATE t SET v = v || '.', pad = randomblob(1000)")
            let opened = try Self.temporaryFiles().subtracting(before)
            #expect(opened.isEmpty, "\(opened)")
        }
        let count = try db.prepare("SELECT count(*) FROM t WHERE v LIKE '%..'")
        #expect(try count.step() && count.int(0) == 120)
    }
}
