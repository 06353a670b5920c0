import Foundation
import ImagedropStore
import ImagedropSystem
import Testing

/// A stopped daemon leaves the whole table in the database file: an operator's cold backup of a stopped daemon,
/// or a restore, is that one file (the flake this answers: `ReconcileWebhookTests` copies the file alone after a
/// stop, and under load the copy was malformed — a checkpoint half done when the daemon stopped).
@Suite("Database file after a stop", .serialized)
struct StopCheckpointTests {
    @Test("after SIGTERM the database file alone, without its -wal, holds every done job; a reader stays connected")
    func fileAloneIsComplete() throws {
        let fixture = try DaemonFixture()
        for index in 0..<12 { try fixture.drop("s\(index).png", seed: UInt64(25_300 + index)) }
        try fixture.start()
        #expect(fixture.waitForFinished(count: 12))
        // Another connection through the stop (`status`, a script): the daemon's close is then not the last, so
        // SQLite's own checkpoint on the last close never runs. It reads once (to join the WAL) and holds nothing.
        let reader = try Database(path: fixture.database, readOnly: true)
        defer { reader.close() }
        let probe = try reader.prepare("SELECT count(*) FROM jobs")
        #expect(try probe.step())
        probe.reset()
        #expect(fixture.stop() == 0)

        let copy = fixture.directory + "/cold-copy.sqlite3"
        try FileManager.default.copyItem(atPath: fixture.database, toPath: copy)
        let restored = try Database(path: copy)
        defer { restored.close() }
        let integrity = try restored.prepare("PRAGMA integrity_check")
        #expect(try integrity.step() && integrity.string(0) == "ok")
        let done = try restored.prepare("SELECT count(*) FROM jobs WHERE state = 'done'")
        #expect(try done.step() && done.int(0) == 12, "the file alone lacks jobs the WAL still held")
    }
}
