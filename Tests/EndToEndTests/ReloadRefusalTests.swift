import Foundation
import Glibc
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import Testing

/// A reload the daemon refused stays visible until a good one, and the read-only commands keep answering
/// while the file on disk is broken — the moment an operator most needs them.
@Suite("Refused reloads stay visible", .serialized)
struct ReloadRefusalTests {
    static func statusJSON(_ fixture: DaemonFixture) throws -> (object: [String: Any], stderr: String) {
        let (status, out, error) = try fixture.runCommand(["status", "--json", "--config", fixture.configPath])
        #expect(status == 0, "\(error)")
        return (
            try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], "\(out) \(error)"),
            error
        )
    }

    static func reloadRefused(_ object: [String: Any]) -> Any? {
        (object["config"] as? [String: Any])?["reload_refused"]
    }

    @Test(
        "SIGHUP with a broken file: status --json config.reload_refused {at, error} and a config: line until a good reload clears it"
    )
    func refusalRecordedUntilGoodReload() throws {
        let fixture = try DaemonFixture()
        let path = try fixture.drop("kept.png", seed: 901)
        try fixture.start()
        let pid = try #require(fixture.process?.processIdentifier)
        #expect(fixture.waitForFinished(count: 1))
        #expect(Self.reloadRefused(try Self.statusJSON(fixture).object) is NSNull)

        let good = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        try good.replacingOccurrences(of: "workers = 4", with: "workers = -2")
            .write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        // What the unit's ExecReload runs first: the broken file fails `systemctl reload` with its reason.
        let (checked, _, checkError) = try fixture.runCommand(["check", "--offline", "--config", fixture.configPath])
        #expect(checked == 78 && checkError.contains("upload.workers: must be at least 1 (got -2)"), "\(checkError)")
        kill(pid, SIGHUP)
        #expect(fixture.waitUntil(seconds: 10) { fixture.log.contains("reload refused") })

        // Read while the file on disk is still broken: the database it names is read, with a warning.
        let (object, warning) = try Self.statusJSON(fixture)
        let refused = try #require(Self.reloadRefused(object) as? [String: Any], "\(object)")
        let problem = "upload.workers: must be at least 1 (got -2); allowed: 1 to 256"
        #expect(refused["error"] as? String == problem, "\(refused)")
        let at = try #require(refused["at"] as? String)
        #expect(at.hasSuffix("Z") && Timestamp.parseISO8601(at) != nil, "\(at)")
        #expect(
            warning.contains("warning: config error: upload.workers")
                && warning.contains("reading the database it names"), "\(warning)")
        let (_, text, _) = try fixture.runCommand(["status", "--config", fixture.configPath])
        #expect(
            text.contains("config:   reload refused at \(at) (\(problem)); the previous configuration stays in force"),
            "\(text)")
        for reader in [["list"], ["export"], ["show", path], ["status", "--check"]] {
            let (status, out, error) = try fixture.runCommand(reader + ["--config", fixture.configPath])
            #expect(status == 0, "\(reader) with a broken config file: \(status) \(error)")
            #expect(reader == ["status", "--check"] || out.contains(path), "\(reader): \(out)")
        }

        try good.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        let (goodCheck, goodOut, goodError) = try fixture.runCommand([
            "check", "--offline", "--config", fixture.configPath,
        ])
        #expect(
            goodCheck == 0,
            "check --offline must pass beside the running daemon, or every reload would fail: \(goodOut) \(goodError)")
        kill(pid, SIGHUP)
        #expect(fixture.waitUntil(seconds: 10) { fixture.log.contains("configuration reloaded") })
        #expect(Self.reloadRefused(try Self.statusJSON(fixture).object) is NSNull)
        #expect(fixture.stop() == 0)
    }

    @Test("a file TOML cannot parse: the readers find [queue] database line by line; the refusal is the parse error")
    func syntaxErrorStillReadable() throws {
        let fixture = try DaemonFixture()
        try fixture.start()
        let pid = try #require(fixture.process?.processIdentifier)
        let good = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        // The database moves out of the default place only through the [queue] line: the fallback must find it.
        try (good + "\n[upload\nworkers = ").write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        kill(pid, SIGHUP)
        #expect(fixture.waitUntil(seconds: 10) { fixture.log.contains("reload refused") })
        let (object, warning) = try Self.statusJSON(fixture)
        #expect((object["daemon"] as? [String: Any])?["running"] as? Bool == true, "\(object)")
        let refused = try #require(Self.reloadRefused(object) as? [String: Any], "\(object)")
        #expect((refused["error"] as? String)?.hasPrefix("malformed TOML at line") == true, "\(refused)")
        #expect(warning.contains("reading the database it names (\(fixture.database))"), "\(warning)")
        #expect(fixture.stop() == 0)
    }
}
