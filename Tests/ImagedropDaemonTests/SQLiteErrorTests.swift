import CSQLite
import Foundation
import Testing

@testable import ImagedropDaemon
@testable import ImagedropStore
@testable import ImagedropSystem

@Suite("SQLite errors an operator can act on")
struct SQLiteErrorTests {
    @Test("a write on a read-only database says what to fix and names the file, not a truncated statement")
    func readOnlyAdvice() throws {
        let directory = NSTemporaryDirectory() + "imagedrop-sqlite-error-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/jobs.sqlite3"
        _ = try JobStore(path: path)
        let reader = try Database(path: path, readOnly: true)
        let error = #expect(throws: SQLiteError.self) {
            try reader.execute(
                "UPDATE daemon SET pid = 1, host = 'a long statement that used to be shown cut at eighty characters' WHERE id = 1"
            )
        }
        let description = try #require(error).description
        #expect(
            description.hasPrefix("database \(path) is read-only: check the owner/mode of \(path)"), "\(description)")
        #expect(description.contains("its folder \(directory)"))
        #expect(!description.contains("UPDATE"))
        #expect(try #require(error).isNotWritable)
    }

    @Test("errors without an operator remedy keep SQLite's message and the statement")
    func otherErrorsKeepTheStatement() throws {
        let error = SQLiteError(
            code: SQLITE_CONSTRAINT, message: "UNIQUE constraint failed", sql: "INSERT INTO jobs",
            database: "/x/jobs.sqlite3")
        #expect(
            error.description == "SQLite error \(SQLITE_CONSTRAINT): UNIQUE constraint failed (in INSERT INTO jobs)")
    }

    @Test("errors are classified by their (extended) result code, whatever the message says")
    func classifiedByCode() {
        func kind(_ code: Int32, message: String = "disk I/O error") -> SQLiteError.Kind {
            SQLiteError(code: code, message: message, sql: nil, database: "/x/jobs.sqlite3").kind
        }
        #expect(kind(SQLITE_FULL, message: "database or disk is full") == .diskFull)
        #expect(kind(SQLiteError.extended(SQLITE_IOERR, 3)) == .diskFull)  // IOERR_WRITE
        #expect(kind(SQLiteError.extended(SQLITE_IOERR, 4)) == .diskFull)  // IOERR_FSYNC
        #expect(kind(SQLiteError.extended(SQLITE_IOERR, 19)) == .diskFull)  // IOERR_SHMSIZE
        // The same "disk I/O error" text, but a read or a lock: not a full disk (matching the text said it was).
        #expect(kind(SQLiteError.extended(SQLITE_IOERR, 1)) == .ioError)  // IOERR_READ
        #expect(kind(SQLiteError.extended(SQLITE_IOERR, 15)) == .ioError)  // IOERR_LOCK
        #expect(kind(SQLITE_FULL, message: "anything at all") == .diskFull)
        #expect(kind(SQLITE_BUSY) == .busy && kind(SQLiteError.extended(SQLITE_BUSY, 2)) == .busy)  // BUSY_SNAPSHOT
        #expect(kind(SQLITE_LOCKED) == .busy)
        #expect(kind(SQLITE_READONLY) == .notWritable && kind(SQLiteError.extended(SQLITE_READONLY, 3)) == .notWritable)
        #expect(kind(SQLITE_CORRUPT) == .corrupt && kind(SQLITE_NOTADB) == .corrupt)
        #expect(kind(SQLiteError.extended(SQLITE_CONSTRAINT, 8)) == .constraint)  // CONSTRAINT_UNIQUE
        #expect(SQLiteError(code: SQLITE_CANTOPEN, message: "x", sql: nil).kind == .other)
        #expect(kind(SQLITE_CANTOPEN) == .notWritable)
    }

    @Test("a bind SQLite refuses (index out of range) is thrown by the step, with SQLITE_RANGE, and nothing runs")
    func bindFailureThrows() throws {
        let directory = NSTemporaryDirectory() + "imagedrop-sqlite-bind-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = try Database(path: directory + "/t.sqlite3")
        try database.execute("CREATE TABLE t (a INTEGER)")
        let insert = try database.prepare("INSERT INTO t (a) VALUES (?1)")
        insert.bind(1, 7).bind(2, 8)
        let error = #expect(throws: SQLiteError.self) { try insert.run() }
        #expect(error?.code == SQLITE_RANGE)
        let count = try database.prepare("SELECT count(*) FROM t")
        #expect(try count.step() && count.int(0) == 0)
        database.close()
    }

    @Test("run summary durations: seconds, minutes, hours")
    func summaryDuration() {
        #expect(HumanUnits.duration(42) == "42s")
        #expect(HumanUnits.duration(304) == "5m04s")
        #expect(HumanUnits.duration(7387) == "2h03m07s")
        #expect(
            RunSummary(uploaded: 2000, alreadyStored: 7, failed: 15, left: 0, seconds: 304).line
                == "2000 uploaded, 7 already stored, 15 failed, 0 left in 5m04s")
        #expect(RunSummary(uploaded: 1, alreadyStored: 0, failed: 1, left: 0, seconds: 1).exit == .partial)
    }
}
