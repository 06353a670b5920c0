import CSQLite
import Foundation
import Testing
@testable import ImagedropCore

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
            try reader.execute("UPDATE daemon SET pid = 1, host = 'a long statement that used to be shown cut at eighty characters' WHERE id = 1")
        }
        let description = try #require(error).description
        #expect(description.hasPrefix("database \(path) is read-only: check the owner/mode of \(path)"), "\(description)")
        #expect(description.contains("its folder \(directory)"))
        #expect(!description.contains("UPDATE"))
        #expect(try #require(error).isNotWritable)
    }

    @Test("errors without an operator remedy keep SQLite's message and the statement")
    func otherErrorsKeepTheStatement() throws {
        let error = SQLiteError(code: SQLITE_CONSTRAINT, message: "UNIQUE constraint failed", sql: "INSERT INTO jobs", database: "/x/jobs.sqlite3")
        #expect(error.description == "SQLite error \(SQLITE_CONSTRAINT): UNIQUE constraint failed (in INSERT INTO jobs)")
    }

    @Test("run summary durations: seconds, minutes, hours")
    func summaryDuration() {
        #expect(RunSummary.duration(42) == "42s")
        #expect(RunSummary.duration(304) == "5m04s")
        #expect(RunSummary.duration(7387) == "2h03m07s")
        #expect(RunSummary(uploaded: 2000, alreadyStored: 7, failed: 15, left: 0, seconds: 304).line
                == "2000 uploaded, 7 already stored, 15 failed, 0 left in 5m04s")
        #expect(RunSummary(uploaded: 1, alreadyStored: 0, failed: 1, left: 0, seconds: 1).exit == .partial)
    }
}
