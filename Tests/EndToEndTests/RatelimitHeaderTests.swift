import Foundation
import Glibc
import ImagedropTestSupport
import ImagesEmulator
import Testing

/// Cloudflare's own word wins: an API whose `Ratelimit` header says less than `requests_per_5min` (the
/// dashboard and other clients spend the same budget) is obeyed — on a lone host and by a fleet.
@Suite("Ratelimit header", .serialized)
struct RatelimitHeaderTests {
    /// The API allows 6 per 5 s; the config believes in 30 per 5 s.
    static let apiLimit = 6
    static let windowSeconds = 5
    static let configured = 30

    static func emulator() -> EmulatorConfiguration {
        var emulator = EmulatorConfiguration()
        emulator.rateLimitRequests = apiLimit
        emulator.rateLimitWindowSeconds = Double(windowSeconds)
        return emulator
    }

    static let uploadSection = DaemonFixture.budgetedUpload(
        workers: 3, requests: configured, windowSeconds: windowSeconds)

    static func report(_ name: String, _ log: [LoggedRequest]) -> (tooMany: Int, busiest: Int) {
        let busiest = RequestBudgetTests.busiestWindow(log, windowMillis: Int64(windowSeconds) * 1000)
        let tooMany = log.filter { $0.status == 429 }.count
        if tooMany > 0 || busiest > apiLimit {
            let start = log.first?.receivedAtMillis ?? 0
            for entry in log {
                print("  +\(entry.receivedAtMillis - start) ms \(entry.method) \(entry.path) \(entry.status)")
            }
        }
        print(
            "[\(name)] \(log.count) requests, 429: \(tooMany), busiest \(windowSeconds) s window: \(busiest) (API \(apiLimit), config \(configured))"
        )
        return (tooMany, busiest)
    }

    @Test("A lone host (no [fleet]) sends no more than the header allows: no 429, no window over the API's limit")
    func loneHost() throws {
        let host = try DaemonFixture(emulator: Self.emulator(), settleMillis: 0)
        try host.writeConfig(settleMillis: 0, uploadSection: Self.uploadSection)
        for file in 0..<14 { try host.drop("r\(file).png", seed: 12_000 + UInt64(file)) }
        try host.start()
        #expect(host.waitForFinished(count: 14, seconds: 90))
        #expect(host.stop() == 0)
        let (tooMany, busiest) = Self.report("ratelimit lone host", host.emulator.requestLog())
        #expect(tooMany == 0)
        #expect(busiest <= Self.apiLimit)
    }

    @Test("Three hosts: the header one host reads caps them all through Redis: no 429, no window over the API's limit")
    func fleet() throws {
        let fleet = try FleetTests.Fleet(emulator: Self.emulator(), uploadSection: Self.uploadSection)
        for (index, host) in fleet.hosts.enumerated() {
            for file in 0..<5 { try host.drop("h\(index)-\(file).png", seed: 12_100 + UInt64(index * 100 + file)) }
        }
        for host in fleet.hosts { try host.start() }
        #expect(fleet.hosts.allSatisfy { $0.waitForFinished(count: 5, seconds: 120) })
        fleet.stop()
        let (tooMany, busiest) = Self.report("ratelimit fleet", fleet.log)
        #expect(tooMany == 0)
        #expect(busiest <= Self.apiLimit)
    }
}
