import Foundation
import Glibc
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import ImagesEmulator
import Testing

/// Watch folders that would be watched twice: nested in one config (78 naming both), and a folder a SIGHUP
/// reload adds while another daemon watches it (the reload is refused; a folder a reload adds is locked).
@Suite("Watch folder rules", .serialized)
struct WatchFolderRulesTests {
    private func setPaths(_ fixture: DaemonFixture, _ paths: [String], at configPath: String? = nil) throws {
        let path = configPath ?? fixture.configPath
        let list = paths.map { "\"\($0)\"" }.joined(separator: ", ")
        let text = try String(contentsOfFile: path, encoding: .utf8)
            .replacingOccurrences(of: #"paths = \[[^\]]*\]"#, with: "paths = [\(list)]", options: .regularExpression)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test("a watch path inside another watch path of the same config is a config error (78) naming both")
    func nestedPathsRefused() throws {
        let fixture = try DaemonFixture()
        let inner = fixture.inbox + "/cameras"
        try FileManager.default.createDirectory(atPath: inner, withIntermediateDirectories: true)
        try setPaths(fixture, [inner, fixture.inbox])
        for command in [["check", "--offline"], ["run", "--once"]] {
            let (status, _, error) = try fixture.runCommand(command + ["--config", fixture.configPath])
            #expect(status == 78, "\(command): \(error)")
            #expect(
                error.contains("config error: watch.paths: \"\(inner)\" lies inside \"\(fixture.inbox)\""), "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: fixture.database), "refused before anything was created")
    }

    @Test("the same folder listed twice under another spelling (a symlink) is refused (78) naming both")
    func sameFolderTwiceRefused() throws {
        let fixture = try DaemonFixture()
        let link = fixture.directory + "/inbox-link"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: fixture.inbox)
        try setPaths(fixture, [fixture.inbox, link])
        let (status, _, error) = try fixture.runCommand(["check", "--offline", "--config", fixture.configPath])
        #expect(status == 78, "\(error)")
        #expect(error.contains("\"\(link)\" and \"\(fixture.inbox)\" are the same folder"), "\(error)")
    }

    @Test("sibling folders whose names share a prefix are not nested")
    func prefixSiblingsAllowed() throws {
        let fixture = try DaemonFixture()
        let sibling = fixture.inbox + "2"
        try FileManager.default.createDirectory(atPath: sibling, withIntermediateDirectories: true)
        try setPaths(fixture, [fixture.inbox, sibling])
        let (status, output, error) = try fixture.runCommand(["check", "--offline", "--config", fixture.configPath])
        #expect(status == 0, "\(output) \(error)")
    }

    @Test("SIGHUP: a nested path in the new config is refused and the old config stays in force")
    func nestedPathOnReloadRefused() throws {
        let fixture = try DaemonFixture(settleMillis: 0)
        try fixture.start()
        let inner = fixture.inbox + "/sub"
        try FileManager.default.createDirectory(atPath: inner, withIntermediateDirectories: true)
        try setPaths(fixture, [fixture.inbox, inner])
        kill(try #require(fixture.process).processIdentifier, SIGHUP)
        #expect(fixture.waitUntil(seconds: 10) { fixture.log.contains("reload refused") }, "\(fixture.log)")
        #expect(fixture.log.contains("lies inside"), "\(fixture.log)")
        try fixture.drop("still.png", seed: 4700)
        #expect(fixture.waitForFinished(count: 1))
        #expect(fixture.stop() == 0)
    }

    @Test("SIGHUP adding a folder another daemon watches is refused naming its pid; a folder a reload adds is locked")
    func reloadLocksAddedFolders() throws {
        let first = try DaemonFixture(settleMillis: 0)
        try first.start()
        let firstPid = try #require(first.process).processIdentifier
        let second = try DaemonFixture(settleMillis: 0)
        try second.start()
        let secondPid = try #require(second.process).processIdentifier

        // The second daemon's reload asks for the first one's folder: refused, nothing changes.
        try setPaths(second, [second.inbox, first.inbox])
        kill(secondPid, SIGHUP)
        #expect(second.waitUntil(seconds: 10) { second.log.contains("reload refused") }, "\(second.log)")
        #expect(
            second.log.contains("another imagedrop daemon (pid \(firstPid)) already watches \(first.inbox)"),
            "\(second.log)")
        try first.drop("first.png", seed: 4710)
        #expect(first.waitForFinished(count: 1))
        #expect(second.counts().values.reduce(0, +) == 0, "the refused reload did not watch the first daemon's folder")

        // A folder of its own added by a reload is locked: a third daemon on it is refused naming the second.
        let added = second.directory + "/added"
        try FileManager.default.createDirectory(atPath: added, withIntermediateDirectories: true)
        try setPaths(second, [second.inbox, added])
        kill(secondPid, SIGHUP)
        #expect(
            second.waitUntil(seconds: 10) { second.log.contains("new watch folder armed and scanned") }, "\(second.log)"
        )
        let third = second.directory + "/third.toml"
        let text = try String(contentsOfFile: second.configPath, encoding: .utf8)
            .replacingOccurrences(of: second.database, with: second.directory + "/state/third.sqlite3")
            .replacingOccurrences(of: "paths = [\"\(second.inbox)\", \"\(added)\"]", with: "paths = [\"\(added)\"]")
        try text.write(toFile: third, atomically: true, encoding: .utf8)
        let (status, _, error) = try second.runCommand(["run", "--once", "--config", third])
        #expect(status == 75, "\(error)")
        #expect(error.contains("another imagedrop daemon (pid \(secondPid)) already watches \(added)"), "\(error)")

        // A folder a reload drops is released.
        try setPaths(second, [second.inbox])
        kill(secondPid, SIGHUP)
        #expect(
            second.waitUntil(seconds: 10) {
                second.log.components(separatedBy: "configuration reloaded").count - 1 >= 2
            }, "\(second.log)")
        let (after, afterOut, afterError) = try second.runCommand(["run", "--once", "--config", third])
        #expect(after == 0, "\(afterOut) \(afterError)")
        #expect(first.stop() == 0)
        #expect(second.stop() == 0)
    }
}
