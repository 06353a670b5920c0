import Foundation
import Glibc
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import ImagesEmulator
import Testing

/// Issue 9 item 2: a restarted daemon keeps to `requests_per_5min`. Before the fix the limiter started
/// empty, so a restart inside the window sent a second full budget and the emulator answered 429.
@Suite("Request budget across restarts", .serialized)
struct RequestBudgetTests {
    static let limit = 5
    static let windowSeconds = 8

    /// The most requests the emulator received in any window-long span.
    static func busiestWindow(_ log: [LoggedRequest], windowMillis: Int64) -> Int {
        let times = log.map(\.receivedAtMillis).sorted()
        var best = 0
        for (index, start) in times.enumerated() {
            best = max(best, times[index...].prefix { $0 - start < windowMillis }.count)
        }
        return best
    }

    @Test("spend the budget, SIGTERM, restart at once with more files: no window ever holds more than the limit")
    func restartKeepsBudget() throws {
        var emulator = EmulatorConfiguration()
        emulator.rateLimitRequests = Self.limit
        emulator.rateLimitWindowSeconds = Double(Self.windowSeconds)
        let fixture = try DaemonFixture(emulator: emulator, settleMillis: 0)
        try fixture.writeConfig(
            settleMillis: 0,
            uploadSection: DaemonFixture.budgetedUpload(
                workers: 4, requests: Self.limit, windowSeconds: Self.windowSeconds))
        for index in 0..<Self.limit { try fixture.drop("first\(index).png", seed: UInt64(700 + index)) }
        try fixture.start()
        #expect(fixture.waitForFinished(count: Self.limit, seconds: 30))
        #expect(fixture.stop() == 0)
        let firstRun = fixture.emulator.requestLog().count
        for index in 0..<Self.limit { try fixture.drop("second\(index).png", seed: UInt64(800 + index)) }
        try fixture.start()
        #expect(fixture.waitForFinished(count: 2 * Self.limit, seconds: 60))
        #expect(fixture.stop() == 0)

        let log = fixture.emulator.requestLog()
        let refused = log.filter { $0.status == 429 }
        let busiest = Self.busiestWindow(log, windowMillis: Int64(Self.windowSeconds) * 1000)
        let first = log.prefix(firstRun).map(\.receivedAtMillis).max() ?? 0
        let secondStart = log.dropFirst(firstRun).map(\.receivedAtMillis).min() ?? 0
        print(
            """
            [budget restart] limit=\(Self.limit)/\(Self.windowSeconds)s requests=\(log.count) (first run \(firstRun)) \
            429=\(refused.count) busiest window=\(busiest) gap between runs' requests=\(secondStart - first) ms
            """)
        #expect(firstRun == Self.limit + 1, "the five uploads and the start's image-quota read (stats)")
        #expect(refused.isEmpty, "the restarted daemon exceeded the budget: \(refused.count) × 429")
        #expect(busiest <= Self.limit)
        let jobs = try fixture.jobs()
        #expect(jobs.count == 2 * Self.limit && jobs.allSatisfy { $0.state == .done })
    }
}

@Suite("Request budget shared with check", .serialized)
struct CheckBudgetTests {
    @Test("check's requests are recorded: a second check inside the window finds the budget spent and exits 69")
    func checkCounts() throws {
        let fixture = try DaemonFixture()
        try fixture.writeConfig(
            settleMillis: 100,
            uploadSection: """
                requests_per_5min = 3
                rate_window_s = 120
                """)
        // check records its requests in an existing table (it creates none): as after a first `run`.
        _ = try JobStore.openForWriting(path: fixture.database)
        let (first, out, firstError) = try fixture.runCommand(["check", "--config", fixture.configPath])
        #expect(first == 0, "\(out) \(firstError)")
        let (second, _, error) = try fixture.runCommand(["check", "--config", fixture.configPath])
        print(
            "[check budget] first=\(first) second=\(second) emulator requests=\(fixture.emulator.requestLog().count): \(error)"
        )
        #expect(second == 69)
        #expect(error.contains("request budget spent") && error.contains("requests_per_5min"), "\(error)")
        // Refused before sending anything: only the first check's two requests reached the API.
        #expect(fixture.emulator.requestLog().count == 2)
    }
}
