import Foundation
import ProcessHarness

/// What a user would otherwise write: `xargs -P 8 curl -F file=@…` over the same files, against the same
/// emulator (reset first). Custom ids are not sent: a plain curl loop has none.
struct CurlBaseline {
    struct Result {
        let seconds: Double
        let uploads: Int
        let accepted: Int
        let usage: ResourceUsage?
    }

    static func run(directory: String, emulator: Emulator, parallel: Int = 8, scratch: String) throws -> Result {
        try emulator.reset()
        let script = """
            cd "$1" && ls | grep '\\.png$' | xargs -P \(parallel) -I{} curl -s -o /dev/null \
              -H "Authorization: Bearer $2" -F "file=@{}" "$3"
            """
        let result = try ChildProcess.run(
            "/bin/sh", ["-c", script, "sh", directory, emulator.token, emulator.uploadURL],
            environment: ["PATH": "/usr/bin:/bin"], scratch: scratch)
        let log = try emulator.requestLog().filter { $0.method == "POST" }
        return Result(
            seconds: result.seconds, uploads: log.count, accepted: log.filter { $0.status == 200 }.count,
            usage: result.usage)
    }
}
