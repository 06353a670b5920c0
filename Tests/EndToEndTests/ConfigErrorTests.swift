import Foundation
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSystem
import Testing

/// Every config error is one line on stderr naming the key, and exit code 78 — from `run` and `check`.
@Suite("Config errors")
struct ConfigErrorTests {
    static let account = "023e105f4ecef8ad9ca31a8372d0c353"

    func runBinary(_ config: String, command: String = "run") throws -> (Int32, String) {
        let directory = NSTemporaryDirectory() + "imagedrop-config-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/inbox", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/imagedrop.toml"
        try config.replacingOccurrences(of: "DIR", with: directory).write(
            toFile: path, atomically: true, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment
        environment["CLOUDFLARE_API_TOKEN"] = "token-for-config-tests"
        let (status, _, error) = try DaemonFixture.run(
            DaemonFixture.binary("imagedrop"), [command, "--config", path],
            environment: environment)
        return (status, error)
    }

    static let cases: [(String, String, String)] = [
        (
            "missing account_id", "[watch]\npaths = [\"DIR/inbox\"]\n[queue]\ndatabase = \"DIR/db\"",
            "cloudflare.account_id: required"
        ),
        (
            "watch path missing",
            "[cloudflare]\naccount_id = \"\(account)\"\n[watch]\npaths = [\"DIR/nope\"]\n[queue]\ndatabase = \"DIR/db\"",
            "watch.paths: \"DIR/nope\" does not exist"
        ),
        (
            "watch path is a file",
            "[cloudflare]\naccount_id = \"\(account)\"\n[watch]\npaths = [\"DIR/imagedrop.toml\"]\n[queue]\ndatabase = \"DIR/db\"",
            "is not a directory"
        ),
        ("malformed TOML", "[cloudflare\naccount_id = 1", "malformed TOML at line 1"),
        (
            "unknown key",
            "[cloudflare]\naccount_id = \"\(account)\"\n[watch]\npaths = [\"DIR/inbox\"]\n[upload]\nworkerz = 3",
            "upload.workerz: unknown key"
        ),
        (
            "negative workers",
            "[cloudflare]\naccount_id = \"\(account)\"\n[watch]\npaths = [\"DIR/inbox\"]\n[upload]\nworkers = -2",
            "upload.workers: must be at least 1 (got -2)"
        ),
        (
            "workers neither auto nor a number",
            "[cloudflare]\naccount_id = \"\(account)\"\n[watch]\npaths = [\"DIR/inbox\"]\n[upload]\nworkers = true",
            "upload.workers: must be \"auto\" or a whole number (got true)"
        ),
        (
            "max_workers out of range",
            "[cloudflare]\naccount_id = \"\(account)\"\n[watch]\npaths = [\"DIR/inbox\"]\n[upload]\nmax_workers = 0",
            "upload.max_workers: must be at least 1 (got 0)"
        ),
        (
            "wrong type",
            "[cloudflare]\naccount_id = \"\(account)\"\n[watch]\npaths = [\"DIR/inbox\"]\nsettle_ms = \"fast\"",
            "watch.settle_ms: must be a whole number"
        ),
        (
            "bad id mode",
            "[cloudflare]\naccount_id = \"\(account)\"\n[watch]\npaths = [\"DIR/inbox\"]\n[images]\nid = \"random\"",
            "images.id: must be"
        ),
        (
            "done_dir inside the watched tree",
            "[cloudflare]\naccount_id = \"\(account)\"\n[watch]\npaths = [\"DIR/inbox\"]\n[after_upload]\non_success = \"move\"\ndone_dir = \"DIR/inbox/done\"",
            "after_upload.done_dir"
        ),
    ]

    @Test("each config error exits 78 with one line naming the key", arguments: 0..<cases.count)
    func configError(index: Int) throws {
        let (name, config, expected) = Self.cases[index]
        for command in ["run", "check"] {
            let (status, error) = try runBinary(config, command: command)
            #expect(status == 78, "\(name) (\(command)): exit \(status), stderr: \(error)")
            let lines = error.split(separator: "\n")
            #expect(lines.count == 1, "\(name) (\(command)): \(error)")
            let directoryFree = error.replacingOccurrences(
                of: #"/[^"]*imagedrop-config-[^/]*"#, with: "DIR", options: .regularExpression)
            #expect(directoryFree.contains(expected), "\(name) (\(command)): \(error)")
        }
    }

    @Test("a missing config file is a config error, and $IMAGEDROP_CONFIG is honoured")
    func missingFile() throws {
        var environment = ProcessInfo.processInfo.environment
        environment["IMAGEDROP_CONFIG"] = "/nonexistent/imagedrop.toml"
        let (status, _, error) = try DaemonFixture.run(
            DaemonFixture.binary("imagedrop"), ["status"], environment: environment)
        #expect(status == 78)
        #expect(error.contains("/nonexistent/imagedrop.toml"))
    }

    @Test("the parser rejects user metadata over 1024 bytes")
    func metadataTooLarge() throws {
        let big = String(repeating: "x", count: 1100)
        let text =
            "[cloudflare]\naccount_id = \"\(Self.account)\"\n[watch]\npaths = [\"/tmp\"]\n[images]\nmetadata = { note = \"\(big)\" }"
        #expect(throws: ConfigError.self) { try ConfigLoader.parse(text, path: "t.toml") }
    }
}
