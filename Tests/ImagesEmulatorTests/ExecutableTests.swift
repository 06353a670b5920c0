import Foundation
import Glibc
import ImagedropTestSupport
import Testing

/// The `imagedrop-emulator` binary as users and scripts run it: first stdout line, flags, signals.
@Suite("imagedrop-emulator executable")
struct ExecutableTests {
    /// Built beside the test bundle by `swift build`/`swift test`.
    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("imagedrop-emulator")

    static var binaryExists: Bool { FileManager.default.isExecutableFile(atPath: binary.path) }

    /// Starts the binary with `arguments` and returns it with the port of its first line.
    static func start(_ arguments: [String]) throws -> (Process, Int) {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // Read only up to the first newline: the process keeps running and the pipe stays open.
        var line = [UInt8]()
        let handle = output.fileHandleForReading
        while line.last != UInt8(ascii: "\n") {
            let byte = handle.readData(ofLength: 1)
            guard let first = byte.first else { break }
            line.append(first)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .newlines)
        #expect(text.hasPrefix("listening on http://127.0.0.1:"))
        return (process, try #require(Int(text.split(separator: ":").last ?? "")))
    }

    @Test(
        "--account-token and --image-quota: the account's token only at its verify route, uploads past the quota 5453",
        .enabled(if: binaryExists, "imagedrop-emulator is not built next to the tests"))
    func accountTokenAndQuota() throws {
        let (process, port) = try Self.start(["--port", "0", "--account-token", "acct-token", "--image-quota", "0"])
        defer { if process.isRunning { process.terminate() } }
        let bearer = [("Authorization", "Bearer acct-token")]
        let user = try HTTPTestClient(port: port).request("GET", "/client/v4/user/tokens/verify", headers: bearer)
        #expect(user.status == 401 && user.errorCode == 1000)
        let account = try HTTPTestClient(port: port).request(
            "GET", "/client/v4/accounts/\(testAccount)/tokens/verify",
            headers: bearer)
        #expect(account.status == 200)
        var form = MultipartBody()
        form.addFile(SampleImages.png(width: 8, height: 8), filename: "a.png")
        let upload = try HTTPTestClient(port: port).request(
            "POST", "/client/v4/accounts/\(testAccount)/images/v1",
            headers: bearer + [("Content-Type", form.contentType)], body: form.finished())
        #expect(upload.status == 400 && upload.errorCode == 5453)
        let faults = try HTTPTestClient(port: port).request("GET", "/__emulator/faults")
        #expect(faults.text.contains("\"imageQuota\":0"))
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    @Test(
        "prints `listening on http://HOST:PORT` first, serves flags' settings, and exits 0 on SIGTERM and SIGINT",
        .enabled(if: binaryExists, "imagedrop-emulator is not built next to the tests"),
        arguments: [SIGTERM, SIGINT])
    func signals(signal: Int32) throws {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = ["--port", "0", "--token", "cli-token", "--variant", "hero", "--refuse-tokens"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        // Read only up to the first newline: the process keeps running and the pipe stays open.
        var line = [UInt8]()
        let handle = output.fileHandleForReading
        while line.last != UInt8(ascii: "\n") {
            let byte = handle.readData(ofLength: 1)
            guard let first = byte.first else { break }
            line.append(first)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .newlines)
        #expect(text.hasPrefix("listening on http://127.0.0.1:"))
        let port = try #require(Int(text.split(separator: ":").last ?? ""))

        let refused = try HTTPTestClient(port: port).request(
            "GET", "/client/v4/user/tokens/verify", headers: [("Authorization", "Bearer cli-token")])
        #expect(refused.status == 401)
        let faults = try HTTPTestClient(port: port).request("GET", "/__emulator/faults")
        #expect(faults.text.contains("\"refuseTokens\":true"))

        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0)
    }
}
