import Foundation
import Glibc

/// The release `imagedrop-emulator` as a separate process on loopback, steered through its admin routes
/// with the `curl` CLI (the bench must not share a process, or a CPU profile, with the emulator).
package final class Emulator {
    package let process: ChildProcess
    package let baseURL: String
    package let accountID = "023e105f4ecef8ad9ca31a8372d0c353"
    package let token = "imagedropBenchToken0123456789abcdefghijk"  // 40 characters, like a real API token
    private let scratch: String

    package var apiBaseURL: String { baseURL + "/client/v4" }
    package var uploadURL: String { "\(apiBaseURL)/accounts/\(accountID)/images/v1" }

    package init(binary: String, arguments: [String] = [], scratch: String) throws {
        self.scratch = scratch
        let stdoutPath = scratch + "/emulator-\(Clock.monotonicNanos()).out"
        let process = try ChildProcess(
            binary, ["--port", "0", "--host", "127.0.0.1", "--rate-limit", "0"] + arguments,
            environment: ProcessInfo.processInfo.environment,
            stdoutPath: stdoutPath, stderrPath: scratch + "/emulator.err")
        var found: String?
        Clock.waitUntil(timeout: 20, interval: 0.01) {
            if let text = Files.readText(stdoutPath), let line = text.split(separator: "\n").first,
                line.hasPrefix("listening on ")
            {
                found = String(line.dropFirst("listening on ".count))
                return true
            }
            return process.hasExited
        }
        self.process = process
        guard let found else {
            process.stop(graceSeconds: 1)
            throw SpawnError(description: "emulator did not start (see \(scratch)/emulator.err)")
        }
        baseURL = found
    }

    package func stop() { process.stop(graceSeconds: 5) }

    @discardableResult
    package func admin(_ method: String, _ path: String, body: String? = nil) throws -> String {
        var arguments = ["-sS", "--fail", "-X", method, baseURL + path]
        if let body { arguments += ["-H", "content-type: application/json", "--data-binary", body] }
        var problem = ""
        for attempt in 0..<3 {
            if attempt > 0 { Clock.sleep(seconds: 0.5) }
            let result = try ChildProcess.run("/usr/bin/curl", arguments, environment: [:], scratch: scratch)
            if result.status == 0 { return result.output }
            problem = "exit \(result.status): \(result.errors.trimmingCharacters(in: .whitespacesAndNewlines))"
            if process.hasExited {
                problem += "; the emulator exited with \(process.exitStatus ?? -1)"
                break
            }
        }
        throw SpawnError(description: "emulator admin \(method) \(path) failed (\(problem))")
    }

    package func setFaults(_ json: String) throws { try admin("PUT", "/__emulator/faults", body: json) }

    /// Forgets images, the request log and rate-limit windows; also clears latency and refused tokens.
    package func reset() throws {
        try admin("POST", "/__emulator/reset")
        try setFaults(#"{"latencyMs": 0, "refuseTokens": false}"#)
    }

    package struct LoggedRequest: Decodable {
        package let method: String
        package let path: String
        package let status: Int
        package let receivedAtMillis: Int64
        package let receivedAtMicros: Int64?
        package let fileSHA256: String?
        package var micros: Int64 { receivedAtMicros ?? receivedAtMillis * 1000 }
    }

    private struct Log: Decodable { let requests: [LoggedRequest] }

    package func requestLog() throws -> [LoggedRequest] {
        let text = try admin("GET", "/__emulator/log")
        return try JSONDecoder().decode(Log.self, from: Data(text.utf8)).requests
    }
}
