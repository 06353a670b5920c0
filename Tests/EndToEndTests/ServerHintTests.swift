import Foundation
import Glibc
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import ImagesEmulator
import Testing

/// Issue 9 item 3: absurd server hints. Before the fix `Retry-After: 20000000000` (or `inf`, `1e400`, a
/// date in year 9999) trapped the daemon (SIGILL) with the job left `uploading`.
@Suite("Server hints", .serialized)
struct ServerHintTests {
    static let upload = """
        workers = 2
        max_attempts = 20
        backoff_initial_ms = 50
        backoff_max_ms = 600
        request_timeout_s = 10
        shutdown_grace_s = 5
        pause_probe_s = 1
        """

    @Test(
        "429s and 503s with absurd or garbage Retry-After / retry-after-ms: the daemon lives, waits are capped, every job ends done"
    )
    func absurdHints() throws {
        let fixture = try DaemonFixture(settleMillis: 0)
        try fixture.writeConfig(settleMillis: 0, uploadSection: Self.upload)
        try fixture.start()
        let hints: [(header: String?, ms: String?)] = [
            ("20000000000", nil), ("inf", nil), ("1e400", nil), ("nan", nil), ("-5", nil),
            ("Fri, 31 Dec 9999 23:59:59 GMT", nil), (nil, "99999999999999999999999"), (nil, "1e400"),
            ("0x7fffffffffffffff", "-1"),
        ]
        var expected = 0
        for (index, hint) in hints.enumerated() {
            var faults = FaultConfiguration()
            faults.seed = UInt64(100 + index)
            faults.failFirstAttempts = 1  // every file's first upload: 503 with the hint
            faults.rateLimitProbability = 0.3  // and some 429s with it
            faults.retryAfterHeader = hint.header
            faults.retryAfterMsHeader = hint.ms
            fixture.emulator.setFaults(faults)
            for file in 0..<2 { try fixture.drop("h\(index)-\(file).png", seed: UInt64(5000 + index * 10 + file)) }
            expected += 2
            let finished = fixture.waitForFinished(count: expected, seconds: 60)
            #expect(finished, "hint \(hint): \(fixture.counts())")
            #expect(fixture.process?.isRunning == true, "the daemon died on hint \(hint)")
            guard finished, fixture.process?.isRunning == true else { break }
        }
        let jobs = try fixture.jobs()
        let log = fixture.emulator.requestLog()
        let hinted = log.filter { $0.status == 429 || $0.status == 503 }.count
        let capped = fixture.log.components(separatedBy: "server's wait hint capped at backoff_max_ms").count - 1
        print(
            "[hints] jobs=\(jobs.count) done=\(jobs.filter { $0.state == .done }.count) 429/503 replies=\(hinted) capped-hint log lines=\(capped)"
        )
        #expect(jobs.count == expected)
        #expect(
            jobs.allSatisfy { $0.state == .done },
            "\(jobs.filter { $0.state != .done }.map { "\($0.path): \($0.lastError ?? "")" })")
        #expect(hinted >= expected)
        // Huge hints are logged as capped (one line per reply); garbage ones are ignored, so fewer lines than replies.
        #expect(capped > 0 && capped < hinted)
        #expect(fixture.stop() == 0)
    }
}
