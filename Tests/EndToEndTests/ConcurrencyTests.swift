import Foundation
import Glibc
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSystem
import Testing

/// `upload.workers = "auto"` end to end: the real daemon records its concurrency with its heartbeat, `status`
/// and the metrics show it, and a SIGHUP switches between auto and a pinned number.
@Suite("Concurrency", .serialized)
struct ConcurrencyTests {
    static func concurrency(_ fixture: DaemonFixture) -> [String: Any]? {
        guard let (_, out, _) = try? fixture.runCommand(["status", "--json", "--config", fixture.configPath]),
            let object = try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]
        else { return nil }
        return object["concurrency"] as? [String: Any]
    }

    @Test("auto is the default: status --json, status and the metrics show it; SIGHUP pins it to a number and back")
    func autoByDefaultAndReload() throws {
        let fixture = try DaemonFixture()
        let metricsPath = fixture.directory + "/imagedrop.prom"
        try fixture.writeConfig(
            settleMillis: 0,
            extra: """
                [metrics]
                textfile = "\(metricsPath)"
                interval_s = 1
                """,
            uploadSection: """
                max_workers = 12
                backoff_initial_ms = 50
                backoff_max_ms = 2000
                request_timeout_s = 10
                shutdown_grace_s = 5
                """)
        try fixture.start()
        for index in 0..<6 { try fixture.drop("c\(index).png", seed: UInt64(41_000 + index)) }
        #expect(fixture.waitForFinished(count: 6))

        var seen: [String: Any]?
        #expect(
            fixture.waitUntil(seconds: 15) {
                seen = Self.concurrency(fixture)
                return seen?["mode"] as? String == "auto"
            }, "\(String(describing: seen))")
        #expect(seen?["max"] as? Int == 12)
        let current = seen?["current"] as? Int ?? 0
        #expect((1...12).contains(current))
        let bounds = AdaptiveConcurrency.Bound.allCases.map(\.rawValue)
        #expect(bounds.contains(seen?["bound"] as? String ?? "?"))

        let (_, text, _) = try fixture.runCommand(["status", "--config", fixture.configPath])
        #expect(text.contains("workers:  \(current) of 12 (auto;"), "\(text)")
        #expect(
            fixture.waitUntil(seconds: 10) {
                let metrics = (try? String(contentsOfFile: metricsPath, encoding: .utf8)) ?? ""
                return metrics.contains("imagedrop_concurrency_limit{mode=\"auto\"}")
                    && metrics.contains("imagedrop_concurrency_max 12")
            })

        var config = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        config = config.replacingOccurrences(of: "max_workers = 12", with: "workers = 3")
        try config.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        kill(fixture.process!.processIdentifier, SIGHUP)
        #expect(
            fixture.waitUntil(seconds: 15) {
                seen = Self.concurrency(fixture)
                return seen?["mode"] as? String == "fixed"
            }, "\(String(describing: seen))")
        #expect(seen?["current"] as? Int == 3 && seen?["max"] as? Int == 3 && seen?["bound"] as? String == "fixed")
        try fixture.drop("after-reload.png", seed: 41_100)
        #expect(fixture.waitForFinished(count: 7))
        #expect(fixture.counts()[.done] == 7)

        config = config.replacingOccurrences(of: "workers = 3", with: "workers = \"auto\"")
        try config.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        kill(fixture.process!.processIdentifier, SIGHUP)
        #expect(fixture.waitUntil(seconds: 15) { Self.concurrency(fixture)?["mode"] as? String == "auto" })
        #expect(fixture.stop() == 0)
        #expect(Self.concurrency(fixture) == nil, "a stopped daemon shows no concurrency")
    }
}
