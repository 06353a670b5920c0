import Foundation
import Glibc
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import ImagesEmulator
import Testing

/// The families an operator's dashboards and alerts read, from the running daemon's `GET /metrics`, parsed by
/// the official prometheus_client and held against what the process, the emulator and the table say.
@Suite("Metrics families", .serialized)
struct MetricsFamiliesTests {
    /// family → [(sample name, labels, value)], from prometheus_client's parser.
    static func families(
        _ text: String, fixture: DaemonFixture
    ) throws -> [String: [(String, [String: String], Double)]] {
        let python =
            ProcessInfo.processInfo.environment["IMAGEDROP_PYTHON"] ?? DaemonFixture.packageRoot + "/.venv/bin/python"
        let script = """
            import sys, json
            from prometheus_client.parser import text_string_to_metric_families
            print(json.dumps({f.name: [[s.name, s.labels, s.value] for s in f.samples] for f in text_string_to_metric_families(sys.stdin.read())}))
            """
        let input = fixture.directory + "/metrics.txt"
        try text.write(toFile: input, atomically: true, encoding: .utf8)
        let (status, out, err) = try DaemonFixture.run(
            "/bin/sh", ["-c", "\"$0\" -c \"$1\" < \"$2\"", python, script, input],
            environment: ProcessInfo.processInfo.environment)
        try #require(status == 0, "prometheus_client failed (run scripts/bootstrap.sh --with-python): \(err)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: [[Any]]])
        return object.mapValues { samples in
            samples.map {
                ($0[0] as? String ?? "", $0[1] as? [String: String] ?? [:], ($0[2] as? NSNumber)?.doubleValue ?? .nan)
            }
        }
    }

    static func value(
        _ families: [String: [(String, [String: String], Double)]], _ family: String,
        _ labels: [String: String] = [:]
    ) -> Double? {
        families[family]?.first { $0.1 == labels }?.2
    }

    @Test(
        "build info, process figures, last success, webhook deliveries and the budget left, as the process, the emulator and the table say"
    )
    func newFamilies() throws {
        let receiver = try WebhookReceiver.start()
        defer { receiver.stop() }
        receiver.setFailing(true)
        let fixture = try DaemonFixture(settleMillis: 50)
        let secretFile = fixture.directory + "/webhook-secret"
        try "metrics-test-secret\n".write(toFile: secretFile, atomically: true, encoding: .utf8)
        try fixture.writeConfig(
            settleMillis: 50,
            extra: """
                [http]
                listen = "127.0.0.1:0"

                [webhook]
                url = "\(receiver.url)"
                secret_file = "\(secretFile)"
                max_attempts = 1
                timeout_s = 5
                """)
        let started = Date().timeIntervalSince1970
        try fixture.start()
        for index in 0..<3 { try fixture.drop("m\(index).png", seed: UInt64(51_000 + index)) }
        #expect(fixture.waitForFinished(count: 3))
        #expect(fixture.waitUntil(seconds: 30) { (try? fixture.store().webhookBacklog())?.dead == 3 })
        let pid = try #require(fixture.process?.processIdentifier)
        let base = "http://" + (try HTTPEndpointTests.address(fixture))
        let families = try Self.families(try HTTPEndpointTests.curl(base + "/metrics").body, fixture: fixture)

        let (_, version, _) = try fixture.runCommand(["--version"])
        let build = try #require(families["imagedrop_build_info"]?.first)
        #expect(build.2 == 1)
        #expect(
            version.hasPrefix("imagedrop \(build.1["version"] ?? "?") (commit \(build.1["commit"] ?? "?"))"),
            "\(version) vs \(build.1)")

        let start = try #require(Self.value(families, "process_start_time_seconds"))
        #expect(
            start >= started.rounded(.down) - 1 && start <= Date().timeIntervalSince1970,
            "started \(start), test began \(started)")
        let resident = try #require(Self.value(families, "process_resident_memory_bytes"))
        #expect(resident > 1_000_000 && resident < 2_000_000_000)
        let fds = try #require(Self.value(families, "process_open_fds"))
        let listed = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count
        #expect(abs(fds - Double(listed)) <= 8, "process_open_fds \(fds), /proc/\(pid)/fd lists \(listed)")

        let last = try #require(Self.value(families, "imagedrop_last_success_timestamp_seconds"))
        let newest = try #require(
            try fixture.jobs().compactMap(\.uploadedAt).max().flatMap { Timestamp.parseISO8601($0) })
        #expect(last == Double(newest) / 1000, "\(last) vs \(newest)")

        #expect(Self.value(families, "imagedrop_webhook_deliveries", ["state": "dead"]) == 3)
        #expect(Self.value(families, "imagedrop_webhook_deliveries", ["state": "pending"]) == 0)

        // Every request to the API counts against the budget (uploads, probes, GETs): 1,200 less what the emulator saw —
        // or less still, by the API's Ratelimit header: a reply counts from its own grant, and requests granted after it
        // that reached the API first are counted twice (concurrent uploads), never once too few.
        let sent = fixture.emulator.requestLog().count
        let remaining = Self.value(families, "imagedrop_budget_remaining") ?? -1
        #expect(
            remaining <= Double(1200 - sent) && remaining >= Double(1200 - 2 * sent),
            "\(remaining) left, \(sent) requests sent")
        #expect(families["imagedrop_paused"]?.map(\.2) == [0, 0, 0, 0])
        #expect(fixture.stop() == 0)
    }

    @Test("a refused token: imagedrop_paused{reason=\"credentials\"} is 1 and the other reasons 0")
    func pausedReason() throws {
        var emulator = EmulatorConfiguration()
        emulator.faults.refuseTokens = true
        let fixture = try DaemonFixture(
            emulator: emulator,
            extraConfig: """
                [http]
                listen = "127.0.0.1:0"
                """)
        try fixture.start()
        try fixture.drop("a.png", seed: 52)
        let base = "http://" + (try HTTPEndpointTests.address(fixture))
        #expect(fixture.waitUntil(seconds: 30) { (try? HTTPEndpointTests.curl(base + "/healthz"))?.status == 503 })
        let families = try Self.families(try HTTPEndpointTests.curl(base + "/metrics").body, fixture: fixture)
        #expect(Self.value(families, "imagedrop_paused", ["reason": "credentials"]) == 1)
        #expect(Self.value(families, "imagedrop_paused", ["reason": "unreachable"]) == 0)
        #expect(Self.value(families, "imagedrop_paused", ["reason": "quota"]) == 0)
        #expect(fixture.stop() == 0)
    }

    @Test("imagedrop pause: imagedrop_paused{reason=\"operator\"} is 1 (the family's only 1) until imagedrop resume")
    func pausedByOperator() throws {
        let fixture = try DaemonFixture(
            extraConfig: """
                [http]
                listen = "127.0.0.1:0"
                """)
        try fixture.start()
        let base = "http://" + (try HTTPEndpointTests.address(fixture))
        func paused() throws -> [String: Double] {
            let families = try Self.families(try HTTPEndpointTests.curl(base + "/metrics").body, fixture: fixture)
            return Dictionary(
                uniqueKeysWithValues: (families["imagedrop_paused"] ?? []).map { ($0.1["reason"] ?? "?", $0.2) })
        }
        #expect(try fixture.runCommand(["pause", "--reason", "maintenance", "--config", fixture.configPath]).0 == 0)
        #expect(fixture.waitUntil(seconds: 10) { (try? paused())?["operator"] == 1 })
        #expect(try paused() == ["credentials": 0, "unreachable": 0, "quota": 0, "operator": 1])
        #expect(try fixture.runCommand(["resume", "--config", fixture.configPath]).0 == 0)
        #expect(fixture.waitUntil(seconds: 10) { (try? paused())?["operator"] == 0 })
        #expect(fixture.stop() == 0)
    }
}
