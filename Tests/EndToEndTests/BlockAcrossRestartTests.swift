import Foundation
import Glibc
import ImagedropTestSupport
import ImagesEmulator
import Testing

/// A 429's block is kept in the database: a lone host stopped (SIGTERM) or killed (SIGKILL) inside the
/// Retry-After and started again sends nothing until the block ends.
@Suite("Block across restarts", .serialized)
struct BlockAcrossRestartTests {
    @Test("429 with Retry-After 30, then SIGTERM and restart, SIGKILL and restart: no request until the block ends")
    func blockSurvivesRestarts() throws {
        var emulator = EmulatorConfiguration()
        emulator.faults.rateLimitProbability = 1
        emulator.faults.retryAfterSeconds = 30
        let host = try DaemonFixture(emulator: emulator, settleMillis: 0)
        try host.writeConfig(
            settleMillis: 0,
            uploadSection: """
                workers = 2
                max_attempts = 8
                backoff_initial_ms = 50
                backoff_max_ms = 60000
                request_timeout_s = 10
                shutdown_grace_s = 5
                pause_probe_s = 1
                """)
        for file in 0..<4 { try host.drop("b\(file).png", seed: 13_000 + UInt64(file)) }
        try host.start()
        #expect(host.waitUntil(seconds: 20) { host.emulator.requestLog().contains { $0.status == 429 } })
        var healthy = emulator.faults
        healthy.rateLimitProbability = 0
        host.emulator.setFaults(healthy)
        let first429 = host.emulator.requestLog().filter { $0.status == 429 }.map(\.receivedAtMillis).min() ?? 0
        #expect(host.stop(signal: SIGTERM) == 0)
        try host.start()
        usleep(2_000_000)
        host.stop(signal: SIGKILL)
        try host.start()
        #expect(host.waitForFinished(count: 4, seconds: 90))
        #expect(host.stop() == 0)
        let log = host.emulator.requestLog()
        // Requests already granted when the first 429 came back may land just after it; none inside the block.
        let inside = log.filter { $0.receivedAtMillis > first429 + 500 && $0.receivedAtMillis < first429 + 29_500 }
        let after = log.filter { $0.receivedAtMillis >= first429 + 29_500 }
        print(
            "[block restart] \(log.count) requests, first 429 at +0, \(inside.count) inside its Retry-After, \(after.count) after it"
        )
        #expect(
            inside.isEmpty,
            "sent inside the block: \(inside.map { "\($0.method) \($0.path) +\($0.receivedAtMillis - first429) ms" })")
        #expect(after.filter { $0.method == "POST" && $0.status == 200 }.count == 4)
    }
}
