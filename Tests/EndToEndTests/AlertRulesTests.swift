import Foundation
import ImagedropPipeline
import ImagedropStore
import ImagedropSystem
import Testing

/// packaging/prometheus/imagedrop.rules.yml: valid for Prometheus, its alerts fire as its unit tests say, and
/// every imagedrop metric it names is one the daemon exposes (a renamed family would silence an alert).
@Suite("Alert rules")
struct AlertRulesTests {
    static let promtool = "/usr/bin/promtool"
    static let folder = DaemonFixture.packageRoot + "/packaging/prometheus"

    @Test(
        "promtool check rules and promtool test rules pass",
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: AlertRulesTests.promtool),
            "Debian's prometheus (promtool) is not installed"))
    func promtoolPasses() throws {
        let environment = ProcessInfo.processInfo.environment
        let (check, checkOut, checkErr) = try DaemonFixture.run(
            Self.promtool, ["check", "rules", "imagedrop.rules.yml"],
            environment: environment, currentDirectory: Self.folder)
        #expect(check == 0 && checkOut.contains("SUCCESS: 7 rules found"), "\(checkOut)\(checkErr)")
        let (test, testOut, testErr) = try DaemonFixture.run(
            Self.promtool, ["test", "rules", "imagedrop.rules.test.yml"],
            environment: environment, currentDirectory: Self.folder)
        #expect(test == 0, "\(testOut)\(testErr)")
    }

    @Test("every imagedrop_ and process_ metric the rules name is a family of the daemon's exposition")
    func namesExist() throws {
        let rules = try String(contentsOfFile: Self.folder + "/imagedrop.rules.yml", encoding: .utf8)
        let named = Set(rules.matches(of: /\b(?:imagedrop|process)_[a-z_]+/).map { String($0.output) })
        var readings = GaugeReadings(queue: QueueSnapshot())
        readings.webhooks = WebhookBacklog()
        readings.budgetRemaining = 1
        readings.process = ProcessStats.current()
        let exposed = Set(
            PipelineMetrics().exposition(readings).split(separator: "\n")
                .filter { $0.hasPrefix("# TYPE ") }.map { String($0.split(separator: " ")[2]) })
        #expect(named.count >= 5, "\(named)")
        #expect(named.subtracting(exposed).isEmpty, "named by the rules but not exposed: \(named.subtracting(exposed))")
    }
}
