import Foundation
import Glibc
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSystem
import ImagesEmulator
import Testing

/// The Global API Key (`cloudflare.api_email` + the key from env, file or credential), sent as
/// X-Auth-Email + X-Auth-Key, against an emulator that accepts only that key.
@Suite("Global API Key end to end", .serialized)
struct GlobalAPIKeyTests {
    static let email = "ops@example.com"
    static let key = "0123456789abcdef0123456789abcdef01234"  // 37 lowercase hex digits, as real keys are

    static func fixture() throws -> DaemonFixture {
        var configuration = EmulatorConfiguration()
        configuration.apiKeys = [email: key]
        let fixture = try DaemonFixture(emulator: configuration)
        try useKey(fixture)
        return fixture
    }

    /// Adds `api_email` (and `extra` keys) to the fixture's `[cloudflare]` table.
    static func useKey(_ fixture: DaemonFixture, extra: String = "") throws {
        let text = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        try text.replacingOccurrences(of: "[cloudflare]\n", with: "[cloudflare]\napi_email = \"\(email)\"\n\(extra)")
            .write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
    }

    /// The token the fixture sets is blanked (an empty variable counts as unset).
    static let keyEnvironment = ["CLOUDFLARE_API_TOKEN": "", "CLOUDFLARE_API_KEY": key]

    @Test("uploads with the key; the key is in no log line, no database byte and no argument")
    func uploads() throws {
        let fixture = try Self.fixture()
        try fixture.drop("a.png", seed: 1)
        try fixture.start(environment: Self.keyEnvironment)
        #expect(fixture.waitForFinished(count: 1))
        let job = try #require(try fixture.jobs().first)
        #expect(job.state == .done, "\(job.lastError ?? "")")
        let pid = try #require(fixture.process?.processIdentifier)
        let argv = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
        #expect(!argv.isEmpty)
        #expect(!String(decoding: argv, as: UTF8.self).contains(Self.key))
        #expect(fixture.stop() == 0)
        #expect(!fixture.log.contains(Self.key))
        for suffix in ["", "-wal", "-shm"] {
            let bytes = (try? Data(contentsOf: URL(fileURLWithPath: fixture.database + suffix))) ?? Data()
            #expect(bytes.range(of: Data(Self.key.utf8)) == nil, "key found in jobs.sqlite3\(suffix)")
        }
    }

    @Test("check: 0 with the right key (env, file, credential), 69 with a wrong one, 78 with a token and a key")
    func check() throws {
        let fixture = try Self.fixture()
        let run = { (env: [String: String]) throws -> (Int32, String) in
            let (status, out, err) = try fixture.runCommand(
                ["check", "--config", fixture.configPath], environment: env)
            return (status, out + err)
        }
        var (status, output) = try run(Self.keyEnvironment)
        #expect(status == 0, "\(output)")
        #expect(output.contains("Global API Key accepted"), "\(output)")
        #expect(!output.contains(Self.key))

        (status, output) = try run([
            "CLOUDFLARE_API_TOKEN": "", "CLOUDFLARE_API_KEY": "fedcba9876543210fedcba9876543210fedcb",
        ])
        #expect(status == 69, "\(output)")
        #expect(output.contains("9103"), "\(output)")

        let credentials = fixture.directory + "/credentials"
        try FileManager.default.createDirectory(atPath: credentials, withIntermediateDirectories: true)
        try (Self.key + "\n").write(toFile: credentials + "/cloudflare-api-key", atomically: true, encoding: .utf8)
        (status, output) = try run(["CLOUDFLARE_API_TOKEN": "", "CREDENTIALS_DIRECTORY": credentials])
        #expect(status == 0, "credential: \(output)")
        #expect(output.contains("credential \(credentials)/cloudflare-api-key"), "\(output)")

        (status, output) = try run(["CLOUDFLARE_API_KEY": Self.key])  // the fixture's token is set too
        #expect(status == 78, "\(output)")
        #expect(output.contains("CLOUDFLARE_API_TOKEN"), "\(output)")

        let keyFile = fixture.directory + "/api-key"
        try Self.key.write(toFile: keyFile, atomically: true, encoding: .utf8)
        try fixture.writeConfig(settleMillis: 100)
        try Self.useKey(fixture, extra: "api_key_file = \"\(keyFile)\"\n")
        (status, output) = try run(["CLOUDFLARE_API_TOKEN": ""])
        #expect(status == 0, "key file: \(output)")

        try fixture.writeConfig(settleMillis: 100)
        try Self.useKey(fixture, extra: "api_token_file = \"\(keyFile)\"\n")
        (status, output) = try run(Self.keyEnvironment)
        #expect(status == 78, "\(output)")
        #expect(output.contains("api_email"), "\(output)")

        // `run` refuses a token and a key together too, before it touches the API.
        try fixture.writeConfig(settleMillis: 100)
        try Self.useKey(fixture)
        let (runStatus, _, runErr) = try fixture.runCommand(
            ["run", "--config", fixture.configPath],
            environment: ["CLOUDFLARE_API_KEY": Self.key])
        #expect(runStatus == 78, "\(runErr)")
    }
}
