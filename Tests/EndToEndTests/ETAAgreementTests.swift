import Foundation
import Glibc
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import Testing

/// One ETA, from the binding constraint, in `status --json`, the daemon's status line and the page.
@Suite("One backlog ETA", .serialized)
struct ETAAgreementTests {
    /// `ETA 9m58s` in a status line → 598.
    static func seconds(inLine line: String) -> Int? {
        guard let range = line.range(of: #"ETA ([0-9]+h)?([0-9]+m)?[0-9]+s"#, options: .regularExpression) else {
            return nil
        }
        var total = 0
        var number = 0
        for character in line[range].dropFirst(4) {
            if let digit = character.wholeNumberValue {
                number = number * 10 + digit
                continue
            }
            total += number * (character == "h" ? 3600 : character == "m" ? 60 : 1)
            number = 0
        }
        return total
    }

    @Test(
        "a backlog past the budget: the budget's pace (21 left at 10 per 300 s ≈ 630 s), not the first burst's rate; null while paused"
    )
    func budgetBinds() throws {
        let fixture = try DaemonFixture()
        try fixture.writeConfig(
            settleMillis: 100,
            extra: """
                [http]
                listen = "127.0.0.1:0"
                """,
            uploadSection: """
                workers = 4
                request_timeout_s = 10
                shutdown_grace_s = 5
                requests_per_5min = 10
                """)
        for index in 0..<30 { try fixture.drop("b\(index).png", seed: 960 + UInt64(index)) }
        try fixture.start()
        // The window's ten requests: the start's image-quota read (stats) and nine uploads.
        #expect(fixture.waitUntil(seconds: 20) { fixture.counts()[.done] == 9 })
        var status: [String: Any] = [:]
        var eta: Int?
        var line = ""
        // The next heartbeats (every 5 s) carry the ETA with the budget spent.
        #expect(
            fixture.waitUntil(seconds: 15) {
                let (_, out, _) =
                    (try? fixture.runCommand(["status", "--json", "--config", fixture.configPath])) ?? (0, "{}", "")
                status = (try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]) ?? [:]
                eta = (status["throughput"] as? [String: Any])?["eta_s"] as? Int
                line = (status["daemon"] as? [String: Any])?["status"] as? String ?? ""
                return (eta ?? 0) > 500
            }, "\(status)")
        let figure = try #require(eta)
        #expect(figure <= 630, "21 uploads at 10 per 300 s: \(figure)")
        let lineFigure = try #require(Self.seconds(inLine: line), "\(line)")
        #expect(abs(lineFigure - figure) <= 6, "status line \(line) vs eta_s \(figure)")

        let base = "http://" + (try HTTPEndpointTests.address(fixture))
        let (_, page, _) = try DaemonFixture.run(
            "/usr/bin/curl", ["-s", base + "/"], environment: ProcessInfo.processInfo.environment)
        let pageFigure = try #require(Self.seconds(inLine: page), "\(page.prefix(2000))")
        #expect(abs(pageFigure - figure) <= 6, "page \(pageFigure) vs eta_s \(figure)")

        #expect(try fixture.runCommand(["pause", "--config", fixture.configPath]).0 == 0)
        #expect(
            fixture.waitUntil(seconds: 10) {
                let (_, out, _) =
                    (try? fixture.runCommand(["status", "--json", "--config", fixture.configPath])) ?? (0, "{}", "")
                return out.contains("\"eta_s\":null")
            })
        let (_, text, _) = try fixture.runCommand(["status", "--config", fixture.configPath])
        #expect(text.contains("backlog ETA unknown (paused)"), "\(text)")
        #expect(fixture.stop() == 0)
    }
}
