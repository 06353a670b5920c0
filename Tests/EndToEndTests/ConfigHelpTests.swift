import Foundation
import Glibc
import ImagedropCore
import ImagedropSupport
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
        try Self.edit(fixture, [("\"\(fixture.inbox)\"", "\"inbox\""), ("\"\(fixture.database)\"", "\"./state/../state/jobs.sqlite3\"")])
        try fixture.drop("a.png", seed: 1601)
        let (status, out, error) = try DaemonFixture.run(DaemonFixture.binary("imagedrop"), ["run", "--once", "--config", fixture.configPath],
                                                         environment: fixture.environment, currentDirectory: "/")
        #expect(status == 0, "\(out) \(error)")
        #expect(ExitCodeTests.summary(out).hasPrefix("1 uploaded, 0 already stored, 0 failed, 0 left in "), "\(out)")
        #expect(access(fixture.database, F_OK) == 0, "the table is not where the config file's folder says")
        #expect(try fixture.jobs().first?.path.display == fixture.inbox + "/a.png")

        // A relative config path (`-c` from another folder) and a path that does not exist: the absolute path is shown.
        try Self.edit(fixture, [("\"inbox\"", "\"inbx\"")])
        let name = (fixture.configPath as NSString).lastPathComponent
        let (bad, _, badError) = try DaemonFixture.run(DaemonFixture.binary("imagedrop"), ["check", "--offline", "--config", name],
                                                       environment: fixture.environment, currentDirectory: fixture.directory)
        #expect(bad == 78)
        #expect(badError.contains("watch.paths: \"inbx\" (resolved to \(fixture.directory)/inbx) does not exist (in \(fixture.configPath))"),
                "\(badError)")
    }
}
