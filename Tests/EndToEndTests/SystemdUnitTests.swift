import Foundation
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSystem
import Testing

/// The files `scripts/install.sh` ships, checked the way their consumers read them.
@Suite("Shipped systemd unit and example config")
struct SystemdUnitTests {
    private static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private static func executableInPath(_ name: String) -> String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test("The unit passes systemd-analyze verify and rates an exposure of 2.0 or better")
    func unitVerifies() throws {
        guard Self.executableInPath("systemd-analyze") != nil else {
            Issue.record("systemd-analyze not found: install systemd (apt-get install -y systemd) to verify the unit")
            return
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [Self.repositoryRoot.appendingPathComponent("scripts/verify-unit.sh").path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()

        #expect(process.terminationStatus == 0, "scripts/verify-unit.sh failed:\n\(text)")
        #expect(text.contains("Overall exposure level for imagedrop.service"), "\(text)")
    }

    @Test("ExecReload validates the file (check --offline: no API request) before it sends SIGHUP")
    func reloadValidatesFirst() throws {
        let unit = try String(
            contentsOfFile: Self.repositoryRoot.appendingPathComponent("systemd/imagedrop.service").path,
            encoding: .utf8)
        let reloads = unit.split(separator: "\n").filter { $0.hasPrefix("ExecReload=") }.map(String.init)
        #expect(
            reloads == [
                "ExecReload=/usr/local/bin/imagedrop check --offline --config /etc/imagedrop/imagedrop.toml",
                "ExecReload=/bin/kill -HUP $MAINPID",
            ], "\(reloads)")
    }

    @Test("The example config parses and every value it shows is the built-in default")
    func exampleConfigIsTheDefaults() throws {
        let path = Self.repositoryRoot.appendingPathComponent("config/imagedrop.toml").path
        var loaded = try ConfigLoader.load(path: path, checkFolders: false)
        #expect(loaded.cloudflare.accountID.count == 32)
        loaded.cloudflare.accountID = ""
        loaded.sourcePath = ""
        // The loaded config spells out its one source (the top-level [watch] paths: `default`); a Config built
        // in code leaves it implicit. The example's [[source]] tables are commented out.
        #expect(loaded.sources == Config().resolvedSources)
        loaded.sources = []
        #expect(loaded == Config())
    }
}
