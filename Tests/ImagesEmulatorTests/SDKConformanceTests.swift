import Foundation
import Testing

@testable import ImagesEmulator

/// Runs `Tests/conformance/sdk_conformance.py` — the official Python SDK (cloudflare==5.9.0) against an
/// in-process emulator, with every JSON reply validated against the OpenAPI schemas.
@Suite("Official SDK conformance")
struct SDKConformanceTests {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `IMAGEDROP_PYTHON`, relative paths taken from the package root; default `.venv/bin/python`.
    static var python: URL {
        let configured = ProcessInfo.processInfo.environment["IMAGEDROP_PYTHON"] ?? ".venv/bin/python"
        return configured.hasPrefix("/")
            ? URL(fileURLWithPath: configured) : packageRoot.appendingPathComponent(configured)
    }

    @Test("the official Python SDK uploads, gets, lists and deletes, and sees the real error classes")
    func pythonSDK() throws {
        let python = Self.python
        try #require(
            FileManager.default.isExecutableFile(atPath: python.path),
            """
            No Python at \(python.path). Create it with `python3 -m venv .venv && \
            .venv/bin/pip install cloudflare==5.9.0 jsonschema` in the package root, or set IMAGEDROP_PYTHON.
            """)
        try withEmulator({
            $0.tokens = ["conformance-token"]
            $0.accountID = testAccount
        }) { server throws in
            let process = Process()
            process.executableURL = python
            process.arguments = [
                Self.packageRoot.appendingPathComponent("Tests/conformance/sdk_conformance.py").path,
                "base_url=\(server.apiBaseURL)", "token=conformance-token", "account_id=\(testAccount)",
            ]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            let summary = text.split(separator: "\n").last.map(String.init) ?? "(no output)"
            #expect(
                process.terminationStatus == 0,
                "sdk_conformance.py exited \(process.terminationStatus): \(summary)\n\(text)")
            #expect(summary.hasSuffix(" 0 failed"), "\(text)")
        }
    }
}
