import Foundation
import Glibc
import ImagedropStore
import ImagedropStoreTestSupport
import Testing

/// The daemon reads its own status page through the readers' path (`StatusReport.load`). Closing any descriptor
/// of a file drops every POSIX lock the process holds on it, SQLite's included: the readers' path must never open
/// the table's files itself.
@Suite("Readers in the table's own process")
struct ReaderLocksTests {
    @Test(
        "a status read in the process holding the table keeps its SQLite locks on the -shm (lost, another reader truncated it: SIGBUS)"
    )
    func statusReadKeepsLocks() throws {
        try withTemporaryStore { temporary in
            _ = try temporary.store.daemonRecord()
            let shm = temporary.database + "-shm"
            let before = try Self.locksHeldHere(on: shm)
            #expect(before > 0, "SQLite holds no lock on \(shm): the check below would prove nothing")
            _ = try StatusReport.load(database: temporary.database)
            #expect(try Self.locksHeldHere(on: shm) == before)
            _ = try temporary.store.daemonRecord()
        }
    }

    /// POSIX locks this process holds on `path`, from /proc/locks (`1: POSIX  ADVISORY  READ 4242 fd:00:131090 128 128`).
    static func locksHeldHere(on path: String) throws -> Int {
        var info = stat()
        #expect(stat(path, &info) == 0)
        let table = try String(contentsOfFile: "/proc/locks", encoding: .utf8)
        return table.split(separator: "\n").filter { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            return fields.count >= 6 && fields[1] == "POSIX" && fields[4] == "\(getpid())"
                && fields[5].hasSuffix(":\(info.st_ino)")
        }.count
    }
}
