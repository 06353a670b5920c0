import Foundation
import Glibc
import ImagesEmulator
import ImagedropSupport
import ImagedropTestSupport
import Testing

/// The fleet's grants, blocks and heartbeats are timed by Redis's clock: hosts whose clocks are minutes off
/// (libfaketime, LD_PRELOADed into the dynamically linked test build) change nothing. The library is preloaded
/// directly rather than through the `faketime` wrapper, which does not pass SIGTERM on to the daemon.
@Suite("Fleet clock skew", .serialized)
struct FleetClockSkewTests {
    static let library = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

    static func skewed(_ offset: String) -> [String: String] {
        ["LD_PRELOAD": library, "FAKETIME": offset]
    }

    @Test("One host 5 minutes ahead, one 3 minutes behind: all done, 0 x 429, no window over the budget",
          .enabled(if: FileManager.default.fileExists(atPath: library), "needs libfaketime (Debian package faketime)"))
    func skewedHosts() throws {
        let fleet = try FleetTests.Fleet(emulator: FleetTests.emulator(),
                                         environments: [Self.skewed("+5m"), Self.skewed("-3m")])
        let startedMillis = Timestamp.nowMillis()
        try fleet.dropAndStart(seedBase: 15_000)
        #expect(fleet.allDone(seconds: 120))
        // The skew took: host-0 logs its own (fake) time, minutes ahead of the test's.
        let ahead = fleet.hosts[0].log.split(separator: "\n").first.flatMap { Timestamp.parseISO8601(String($0.prefix(24))) }
        #expect((ahead ?? 0) - startedMillis >= 4 * 60_000, "host-0's clock is not ahead: \(fleet.hosts[0].log.prefix(80))")
        fleet.stop()
        let log = fleet.log
        let busiest = RequestBudgetTests.busiestWindow(log, windowMillis: Int64(FleetTests.windowSeconds) * 1000)
        print("[fleet skew] \(log.count) requests, 429: \(log.filter { $0.status == 429 }.count), busiest \(FleetTests.windowSeconds) s window: \(busiest) (budget \(FleetTests.limit))")
        #expect(log.filter { $0.status == 429 }.isEmpty)
        #expect(busiest <= FleetTests.limit)
        #expect(log.filter { $0.method == "POST" && $0.status == 200 }.count == 3 * FleetTests.filesPerHost)
    }
}
