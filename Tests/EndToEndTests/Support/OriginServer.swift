import Foundation
import Glibc
import ImagedropSupport
import ImagedropTestSupport

/// The image origin of the URL-upload tests: `Tests/origin/origin_server.py` run on loopback, serving files
/// the test writes into its folder. Killed in deinit.
final class OriginServer: @unchecked Sendable {
    // @unchecked: owned by one test.
    let directory: String
    let baseURL: String
    private let process: Process

    init(directory: String, credentials: String = "user:s3cret") throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let python = ProcessInfo.processInfo.environment["IMAGEDROP_PYTHON"] ?? "/usr/bin/python3"
        let process = Process()
        process.executableURL = URL(
            fileURLWithPath: python.hasPrefix("/") ? python : DaemonFixture.packageRoot + "/" + python)
        process.arguments = [DaemonFixture.packageRoot + "/Tests/origin/origin_server.py", directory, credentials]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        // The first line names the port; reading it is the wait for readiness.
        var line = [UInt8]()
        let handle = output.fileHandleForReading
        while let byte = try handle.read(upToCount: 1)?.first, byte != UInt8(ascii: "\n") { line.append(byte) }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("listening on ") else {
            process.terminate()
            throw FixtureError("origin server did not start: \(text)")
        }
        baseURL = String(text.dropFirst("listening on ".count))
    }

    deinit {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Writes a PNG the origin serves as /files/NAME (and /private/NAME).
    @discardableResult
    func serve(_ name: String, seed: UInt64, width: Int = 16, height: Int = 16) throws -> [UInt8] {
        let bytes = SampleImages.png(width: width, height: height, seed: seed)
        try writeFile(atPath: directory + "/" + name, contents: Data(bytes))
        return bytes
    }

    var requestLog: String { (try? String(contentsOfFile: directory + "/requests.log", encoding: .utf8)) ?? "" }
}
