import Foundation
import Glibc
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import ImagesEmulator
import Testing

/// Config files an operator gets right on the first try: relative paths mean what they say, and errors show
/// the value, the nearest known key and the allowed range.
@Suite("Config paths and errors that teach", .serialized)
struct ConfigHelpTests {
    /// Rewrites the fixture's config with `replacements` applied (plain text substitutions).
    static func edit(_ fixture: DaemonFixture, _ replacements: [(String, String)]) throws {
        var text = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        for (old, new) in replacements {
            #expect(text.contains(old), "the fixture's config has no \(old)")
            text = text.replacingOccurrences(of: old, with: new)
        }
        try text.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
    }

    @Test("relative paths resolve against the config file's folder, not the working directory (systemd runs in /)")
    func relativePaths() throws {
        let fixture = try DaemonFixture(settleMillis: 0)
        try Self.edit(
            fixture,
            [("\"\(fixture.inbox)\"", "\"inbox\""), ("\"\(fixture.database)\"", "\"./state/../state/jobs.sqlite3\"")])
        try fixture.drop("a.png", seed: 1601)
        let (status, out, error) = try DaemonFixture.run(
            DaemonFixture.binary("imagedrop"), ["run", "--once", "--config", fixture.configPath],
            environment: fixture.environment, currentDirectory: "/")
        #expect(status == 0, "\(out) \(error)")
        #expect(ExitCodeTests.summary(out).hasPrefix("1 uploaded, 0 already stored, 0 failed, 0 left in "), "\(out)")
        #expect(access(fixture.database, F_OK) == 0, "the table is not where the config file's folder says")
        #expect(try fixture.jobs().first?.path.display == fixture.inbox + "/a.png")

        // A relative config path (`-c` from another folder) and a path that does not exist: the absolute path is shown.
        try Self.edit(fixture, [("\"inbox\"", "\"inbx\"")])
        let name = (fixture.configPath as NSString).lastPathComponent
        let (bad, _, badError) = try DaemonFixture.run(
            DaemonFixture.binary("imagedrop"), ["check", "--offline", "--config", name],
            environment: fixture.environment, currentDirectory: fixture.directory)
        #expect(bad == 78)
        #expect(
            badError.contains(
                "watch.paths: \"inbx\" (resolved to \(fixture.directory)/inbx) does not exist (in \(fixture.configPath))"
            ),
            "\(badError)")
    }
}

extension ConfigHelpTests {
    @Test(
        "type errors show the value, unknown keys the nearest known one, absurd values the allowed range, api_token a hint"
    )
    func errorsThatTeach() throws {
        let fixture = try DaemonFixture()
        let cases: [(String, [(String, String)], String)] = [
            (
                "type", [("workers = 4", "workers = \"4x\"")],
                "upload.workers: must be \"auto\" or a whole number (got \"4x\"); allowed: 1 to 256"
            ),
            (
                "typo", [("settle_ms = 100", "settle_msec = 100")],
                "watch.settle_msec: unknown key (did you mean watch.settle_ms? known keys here:"
            ),
            (
                "range", [("settle_ms = 100", "settle_ms = 31536000000")],
                "watch.settle_ms: must be at most 3600000 (got 31536000000); allowed: 0 to 3600000"
            ),
            (
                "bool", [("rescan_interval_s = 600", "rescan_interval_s = 600\nrecursive = \"yes\"")],
                "watch.recursive: must be true or false (got \"yes\")"
            ),
            (
                "token", [("[cloudflare]", "[cloudflare]\napi_token = \"secret-value-1234567890\"")],
                "cloudflare.api_token: the API token does not go in the config file"
            ),
        ]
        let original = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        for (name, replacements, expected) in cases {
            try original.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
            try Self.edit(fixture, replacements)
            let (status, _, error) = try fixture.runCommand(["check", "--offline", "--config", fixture.configPath])
            #expect(status == 78, "\(name): \(error)")
            #expect(error.contains(expected), "\(name): \(error)")
            #expect(error.split(separator: "\n").count == 1, "\(name): \(error)")
            #expect(!error.contains("secret-value"), "the token's value is never repeated")
        }
    }

    @Test("a token file readable by every user is a warning in check and in the daemon's log")
    func worldReadableTokenFile() throws {
        let fixture = try DaemonFixture()
        let tokenFile = fixture.directory + "/api-token"
        try fixture.token.write(toFile: tokenFile, atomically: true, encoding: .utf8)
        chmod(tokenFile, 0o644)
        try Self.edit(fixture, [("[cloudflare]", "[cloudflare]\napi_token_file = \"api-token\"")])
        let environment = ["CLOUDFLARE_API_TOKEN": ""]
        let (status, out, error) = try fixture.runCommand(
            ["check", "--offline", "--config", fixture.configPath], environment: environment)
        #expect(status == 0, "\(out) \(error)")
        #expect(
            out.contains(
                "warning:  cloudflare.api_token_file: \(tokenFile) is readable by every user (mode 644): chmod 600"),
            "\(out)")
        try fixture.start(environment: environment)
        #expect(fixture.log.contains("token file readable by others"), "\(fixture.log)")
        #expect(fixture.stop() == 0)
        chmod(tokenFile, 0o600)
        let (_, quiet, _) = try fixture.runCommand(
            ["check", "--offline", "--config", fixture.configPath], environment: environment)
        #expect(!quiet.contains("warning"), "\(quiet)")
    }

    @Test("a second daemon on another database watching the same folder is refused (75) naming the first one's pid")
    func sameFolderOtherDatabase() throws {
        let fixture = try DaemonFixture()
        try fixture.start()
        let pid = try #require(fixture.process).processIdentifier
        let other = fixture.directory + "/other.toml"
        let text = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
            .replacingOccurrences(of: fixture.database, with: fixture.directory + "/state/other.sqlite3")
        try text.write(toFile: other, atomically: true, encoding: .utf8)
        let (status, _, error) = try fixture.runCommand(["run", "--once", "--config", other])
        #expect(status == 75, "\(error)")
        #expect(error.contains("another imagedrop daemon (pid \(pid)) already watches \(fixture.inbox)"), "\(error)")
        let refused = try fixture.runCommand(["status", "--check", "--config", other])
        #expect(refused.0 == 3, "the refused start is no unclean stop: \(refused)")
        #expect(fixture.stop() == 0)
        let (after, afterOut, afterError) = try fixture.runCommand(["run", "--once", "--config", other])
        #expect(after == 0, "\(afterOut) \(afterError)")
    }
}
