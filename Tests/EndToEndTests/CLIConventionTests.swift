import Foundation
import Glibc
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import ImagedropTestSupport
import Testing

/// The command-line habits operators bring from rsync, rclone and systemctl.
@Suite("CLI conventions", .serialized)
struct CLIConventionTests {
    @Test("bare imagedrop prints usage on stderr and exits 64; --version names version, commit, libcurl and SQLite")
    func usageAndVersion() throws {
        let fixture = try DaemonFixture()
        let (bare, bareOut, bareError) = try fixture.runCommand([])
        #expect(bare == 64 && bareOut.isEmpty, "\(bare) \(bareOut)")
        #expect(bareError.contains("USAGE: imagedrop <subcommand>"), "\(bareError)")

        let (status, version, _) = try fixture.runCommand(["--version"])
        #expect(status == 0)
        let lines = version.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "\(version)")
        #expect(lines.first?.hasPrefix("imagedrop \(ImagedropVersion.current) (commit ") == true, "\(version)")
        #expect(
            lines.dropFirst().first?.hasPrefix("libcurl/") == true && lines.last?.hasPrefix("SQLite 3.") == true,
            "\(version)")
        let emulator = try DaemonFixture.run(
            DaemonFixture.binary("imagedrop-emulator"), ["--version"], environment: fixture.environment)
        #expect(
            emulator.0 == 0 && emulator.1.hasPrefix("imagedrop-emulator \(BuildInfo.version) (commit "), "\(emulator)")
    }

    /// ArgumentParser reads the root command's configuration, `--version`'s text with it, on every parse, the daemon's
    /// included. Built with curl_version(), that text had Debian's libcurl ask OpenLDAP for its version, which
    /// initialized OpenLDAP and loaded every Cyrus SASL plugin (0.8 MiB resident) into a process that never speaks
    /// LDAP. The plugins' folder is only there with libsasl2-modules, which libldap recommends (CI has it).
    @Test("a running daemon has loaded no SASL plugin: nothing in it initializes OpenLDAP")
    func noLDAPInitialization() throws {
        let fixture = try DaemonFixture()
        try fixture.start()
        try fixture.drop("a.png", seed: 52_000)
        #expect(fixture.waitForFinished(count: 1))
        let pid = try #require(fixture.process?.processIdentifier)
        let maps = try String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8)
        let plugins = maps.split(separator: "\n").filter { $0.contains("/sasl2/") }
        #expect(plugins.isEmpty, "\(plugins.prefix(3))")
    }

    @Test("help of every subcommand has an example and its exit codes; -c works everywhere; a bad --log-level is 64")
    func helpAndShortConfig() throws {
        let fixture = try DaemonFixture()
        for command in [
            "run", "status", "enqueue", "retry", "show", "list", "export", "check", "prune", "webhook retry",
        ] {
            let (status, help, _) = try fixture.runCommand(command.split(separator: " ").map(String.init) + ["--help"])
            #expect(status == 0)
            #expect(help.contains("Example"), "\(command) --help has no example")
            #expect(help.contains("Exit codes:"), "\(command) --help lists no exit codes")
            #expect(
                help.contains("-c, --config") && help.contains("-q, --quiet") && help.contains("--log-level"),
                "\(command)")
        }
        let (short, out, _) = try fixture.runCommand(["status", "-c", fixture.configPath, "--json"])
        #expect(short == 0 && out.hasPrefix("{"), "\(out)")
        let (bad, _, badError) = try fixture.runCommand(["status", "-c", fixture.configPath, "--log-level", "loud"])
        #expect(bad == 64 && badError.contains("--log-level"), "\(badError)")
    }

    @Test("prune --older-than-days -1 is out of range (64)")
    func pruneRange() throws {
        let fixture = try DaemonFixture()
        let (status, _, error) = try fixture.runCommand(["prune", "-c", fixture.configPath, "--older-than-days", "-1"])
        #expect(status == 64)
        #expect(error.contains("--older-than-days: -1 is out of range (0 to 36500 days)"), "\(error)")
    }

    @Test("--dry-run on prune, retry and enqueue says what it would do and changes nothing; -q keeps info lines out")
    func dryRuns() throws {
        let fixture = try DaemonFixture(settleMillis: 0)
        try fixture.drop("good.png", seed: 1701)
        try fixture.drop("bad.jpg", bytes: Array("text".utf8))
        let (ran, _, runError) = try fixture.runCommand(["run", "--once", "-q", "-c", fixture.configPath])
        #expect(ran == 23, "\(runError)")
        #expect(!runError.contains("level=info") && !runError.contains("level=notice"), "-q: \(runError)")
        #expect(runError.contains("level=warning"), "warnings stay: \(runError)")

        let pruned = try fixture.runCommand(["prune", "-c", fixture.configPath, "--older-than-days", "0", "--dry-run"])
        #expect(pruned.0 == 0 && pruned.1.hasPrefix("would remove 1 done jobs"), "\(pruned)")
        let retried = try fixture.runCommand(["retry", "-c", fixture.configPath, "--all-failed", "--dry-run"])
        #expect(retried.0 == 0 && retried.1.hasPrefix("would queue 1 failed jobs again"), "\(retried)")
        let failed = try #require(try fixture.jobs().first { $0.state == .failed })
        let one = try fixture.runCommand(["retry", "-c", fixture.configPath, "--dry-run", "\(failed.id)"])
        #expect(one.0 == 0 && one.1.contains("job \(failed.id) would be queued again"), "\(one)")

        let backlog = fixture.directory + "/backlog"
        try FileManager.default.createDirectory(atPath: backlog, withIntermediateDirectories: true)
        try writeFile(atPath: backlog + "/old.png", contents: Data(SampleImages.png(width: 8, height: 8, seed: 1702)))
        try writeFile(atPath: backlog + "/skip.tmp", contents: Data("x".utf8))
        let enqueued = try fixture.runCommand(["enqueue", "-c", fixture.configPath, "--dry-run", backlog])
        #expect(enqueued.0 == 0, "\(enqueued)")
        #expect(
            enqueued.1.contains("would queue \(backlog)/old.png") && !enqueued.1.contains("skip.tmp"), "\(enqueued.1)")

        let counts = fixture.counts()
        #expect(
            counts[.done] == 1 && counts[.failed] == 1 && counts.values.reduce(0, +) == 2,
            "a dry run changed the table: \(counts)")
    }
}
