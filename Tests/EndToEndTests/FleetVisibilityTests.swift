import Foundation
import Glibc
import ImagedropTestSupport
import ImagesEmulator
import Testing

/// The fleet at a glance from one host: `imagedrop_fleet_*` in /metrics (the textfile renders the same
/// exposition) and the fleet table on the status page, healthy and then with Redis gone.
@Suite("Fleet visibility", .serialized)
struct FleetVisibilityTests {
    static func value(_ text: String, _ sample: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(sample + " ") }.flatMap {
            Double($0.split(separator: " ").last ?? "")
        }
    }

    @Test("/metrics counts the hosts by state, the grants and waits, degraded time; the page lists every host")
    func metricsAndPage() throws {
        let fleet = try FleetTests.Fleet(
            emulator: FleetTests.emulator(),
            extra: """
                [http]
                listen = "127.0.0.1:0"
                """)
        try fleet.dropAndStart(seedBase: 14_000)
        #expect(fleet.allDone(seconds: 90))
        let host = fleet.hosts[0]
        let base = "http://" + (try HTTPEndpointTests.address(host))
        var metrics = ""
        // Every host's heartbeat is in Redis and host-0's last beat read them all.
        #expect(
            host.waitUntil(seconds: 20) {
                metrics = (try? HTTPEndpointTests.curl(base + "/metrics").body) ?? ""
                return Self.value(metrics, "imagedrop_fleet_hosts{state=\"running\"}") == 3
            }, "\(metrics.split(separator: "\n").filter { $0.contains("fleet") })")
        #expect(Self.value(metrics, "imagedrop_fleet_hosts{state=\"offline\"}") == 0)
        #expect(Self.value(metrics, "imagedrop_fleet_degraded") == 0)
        let grants = Self.value(metrics, "imagedrop_fleet_budget_grants_total") ?? 0
        #expect(grants >= Double(FleetTests.filesPerHost), "host-0 took a grant for each of its uploads at least")
        // The three hosts together asked for more than the budget allowed at once: someone waited on the budget.
        #expect(Self.value(metrics, "imagedrop_fleet_budget_waits_total{reason=\"budget\"}") != nil)
        #expect(Self.value(metrics, "imagedrop_fleet_degraded_seconds_total") == 0)
        let page = try HTTPEndpointTests.curl(base + "/").body
        #expect(page.contains("<table id=\"fleet\">"))
        for index in 0..<3 { #expect(page.contains("data-host=\"host-\(index)\" data-state=\"running\"")) }
        #expect(!page.contains("fleet-degraded"))

        fleet.redis.kill()
        var degradedPage = ""
        #expect(
            host.waitUntil(seconds: 20) {
                degradedPage = (try? HTTPEndpointTests.curl(base + "/").body) ?? ""
                metrics = (try? HTTPEndpointTests.curl(base + "/metrics").body) ?? ""
                return degradedPage.contains("fleet: degraded (redis unreachable")
                    && (Self.value(metrics, "imagedrop_fleet_degraded_seconds_total") ?? 0) >= 1
            })
        #expect(Self.value(metrics, "imagedrop_fleet_degraded") == 1)
        for host in fleet.hosts { #expect(host.stop() == 0) }
    }
}
