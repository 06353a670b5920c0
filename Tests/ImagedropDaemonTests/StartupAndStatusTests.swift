import Foundation
import Glibc
import ImagedropTestSupport
import Logging
import Testing

@testable import ImagedropDaemon
@testable import ImagedropStore
@testable import ImagedropSystem

/// Start-up against a database another process holds, and what `status` says about unwatched folders.
@Suite("Start-up and status", .serialized)
struct StartupAndStatusTests {
    @Test("A write lock held past the start-up patience ends the start with 74, which the unit restarts")
    func busyPastPatienceIsTransient() throws {
        let folder = try TemporaryFolder("imagedrop-startup")
        _ = try JobStore(path: folder.database)
        let holder = try Database(path: folder.database)
        try holder.execute("BEGIN IMMEDIATE")
        defer { try? holder.execute("ROLLBACK") }
        do {
            _ = try StartupStore.open(database: folder.database, logger: Logger(label: "test"), patienceSeconds: 0.1)
            Issue.record("start-up succeeded although another connection held the write lock")
        } catch {
            guard case .transient(let message) = error else {
                Issue.record("expected a transient failure, got \(error)")
                return
            }
            #expect(error.exit == .transient && Daemon.Exit.transient.rawValue == 74)
            #expect(message.contains("busy"))
        }
        let unit = try String(contentsOfFile: DaemonPaths.unit, encoding: .utf8)
        let prevented = unit.split(separator: "\n").first { $0.hasPrefix("RestartPreventExitStatus=") } ?? ""
        #expect(!prevented.split(separator: " ").contains("74") && !prevented.contains("=74"))
        #expect(unit.contains("Restart=on-failure"))
    }

    @Test("status shows the running daemon's unwatched folders in text and as watch.unwatched_folders in JSON")
    func statusReportsUnwatchedFolders() throws {
        let folder = try TemporaryFolder("imagedrop-startup")
        let store = try JobStore(path: folder.database)
        let lock = try DaemonLock(database: folder.database)  // a daemon holds the lock, as `run` does
        try store.recordDaemonStart(pid: Int(getpid()), host: "test", version: "0")
        try store.recordHeartbeat(statusLine: "idle", unwatchedFolders: 3)
        let report = try StatusReport.load(database: folder.database)
        #expect(report.running)
        let watch = try #require(report.jsonObject["watch"] as? [String: Any])
        #expect(watch["unwatched_folders"] as? Int == 3)
        #expect(report.text.contains("3 folders not watched"))
        withExtendedLifetime(lock) {}

        try store.recordDaemonStop()
        let stopped = try StatusReport.load(database: folder.database)
        #expect((stopped.jsonObject["watch"] as? [String: Any])?["unwatched_folders"] as? Int == 0)
        #expect(!stopped.text.contains("not watched"))
    }
}

enum DaemonPaths {
    static var unit: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("systemd/imagedrop.service").path
    }
}
