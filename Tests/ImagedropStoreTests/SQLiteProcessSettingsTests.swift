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
/// Serialized: the tests look for SQLite's temporary files among the process's descriptors, and one of them opens
/// such a file on purpose.
@Suite("SQLite's process settings", .serialized)
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

    /// Two statements that journal every page of a table of `rows` rows of ~1 KB, in one transaction: inside a
    /// transaction, a statement that may fail halfway (the UNIQUE index) keeps a copy of each page it changes.
    /// Returns SQLite's temporary files opened meanwhile (seen before the commit closes them) and how many rows
    /// both statements changed.
    static func journalTwice(rows: Int) throws -> (opened: Set<String>, changedTwice: Int) {
        let temp = try TemporaryFolder("imagedrop-store")
        let db = try Database(path: temp.database)
        try db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE, pad BLOB)")
        try db.transaction {
            for index in 0..<rows {
                try db.execute("INSERT INTO t (v, pad) VALUES ('v\(index)', zeroblob(1000))")
            }
        }
        let before = try temporaryFiles()
        let opened = try db.transaction {
            try db.execute("UPDATE t SET v = v || '.', pad = randomblob(1000)")
            try db.execute("UPDATE t SET v = v || '.', pad = randomblob(1000)")
            return try temporaryFiles().subtracting(before)
        }
        let count = try db.prepare("SELECT count(*) FROM t WHERE v LIKE '%..'")
        return (opened, try count.step() ? count.int(0) : 0)
    }

    @Test("a statement journal past SQLite's 64 KiB (under 120 KiB) stays in memory: no temporary file")
    func statementJournalInMemory() throws {
        // ~22 pages: about 90 KiB of statement journal per statement.
        let run = try Self.journalTwice(rows: 80)
        #expect(run.opened.isEmpty, "\(run.opened)")
        #expect(run.changedTwice == 80)
    }

    /// Moving a journal to disk writes its in-memory chunks, each as large as the threshold, one call each, and
    /// the unix VFS cuts a write's length to its low 17 bits (os_unix.c): with a 256 KiB threshold every journal
    /// that outgrew it failed its statement with SQLITE_FULL ("database or disk is full").
    @Test("a statement journal past the threshold moves to disk and its statement succeeds")
    func statementJournalSpills() throws {
        // ~80 pages: about 330 KiB of statement journal per statement.
        let run = try Self.journalTwice(rows: 300)
        // It did move to disk: a threshold above this journal would leave the test nothing to check.
        #expect(!run.opened.isEmpty)
        #expect(run.changedTwice == 300)
    }
}
