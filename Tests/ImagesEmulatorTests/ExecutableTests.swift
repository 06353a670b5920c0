import Foundation
import Glibc
import Testing

/// The `imagedrop-emulator` binary as users and scripts run it: first stdout line, flags, signals.
@Suite("imagedrop-emulator executable")
struct ExecutableTests {
    /// Built beside the test bundle by `swift build`/`swift test`.
    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("imagedrop-emulator")

    static var binaryExists: Bool { FileManager.default.isExecutableFile(atPath: binary.path) }

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
