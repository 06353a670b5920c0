import Foundation
import Glibc
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import ImagesEmulator
import Testing

/// Issue 14, the status endpoint: the real daemon serving real HTTP on loopback and on a unix socket, read with
/// the curl command-line client.
@Suite("HTTP endpoint", .serialized)
struct HTTPEndpointTests {
    struct Reply {
        var status: Int
        var headers: String
        var body: String
    }

    /// `curl` against the daemon: `target` is "http://127.0.0.1:PORT/path" or, with `socket`, "http://localhost/path".
    static func curl(
        _ target: String, socket: String? = nil, method: String = "GET", data: String? = nil,
        headers: [String] = []
    ) throws -> Reply {
        let directory = NSTemporaryDirectory() + "imagedrop-curl-\(UInt64.random(in: 0...UInt64.max))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var arguments = [
            "-sS", "-X", method, "-D", directory + "/h", "-o", directory + "/b", "-w", "%{http_code}", "--max-time",
            "10",
        ]
        if let socket { arguments += ["--unix-socket", socket] }
        if let data { arguments += ["--data-binary", data] }
        for header in headers { arguments += ["-H", header] }
        arguments.append(target)
        let (status, out, err) = try DaemonFixture.run(
            "/usr/bin/curl", arguments, environment: ProcessInfo.processInfo.environment)
        guard status == 0, let code = Int(out) else { throw FixtureError("curl \(target): \(status) \(err)") }
        return Reply(
            status: code, headers: (try? String(contentsOfFile: directory + "/h", encoding: .utf8)) ?? "",
            body: (try? String(contentsOfFile: directory + "/b", encoding: .utf8)) ?? "")
    }

    /// The address the daemon logged at its latest start ("http=127.0.0.1:PORT"; the log is kept across restarts).
    static func address(_ fixture: DaemonFixture) throws -> String {
        let log = fixture.log
        var found = try #require(log.range(of: #"http=\S+"#, options: .regularExpression))
        while let next = log.range(
            of: #"http=\S+"#, options: .regularExpression, range: found.upperBound..<log.endIndex)
        { found = next }
        return String(log[found].dropFirst(5)).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test(
        "over loopback TCP: /healthz, /status.json as status --json, /metrics parsed by prometheus_client, the page; actions off"
    )
    func loopback() throws {
        let fixture = try DaemonFixture(
            extraConfig: """
                [http]
                listen = "127.0.0.1:0"
                """)
        try fixture.start()
        for index in 0..<3 { try fixture.drop("h\(index).png", seed: UInt64(31_000 + index)) }
        try fixture.drop("bad.png", bytes: Array("not an image".utf8))
        #expect(fixture.waitForFinished(count: 4))
        let base = "http://" + (try Self.address(fixture))

        let health = try Self.curl(base + "/healthz")
        #expect(health.status == 200 && health.body == "ok\n")

        let status = try Self.curl(base + "/status.json")
        #expect(status.status == 200 && status.headers.lowercased().contains("content-type: application/json"))
        let served = try Self.json(status.body)
        let (_, cli, _) = try fixture.runCommand(["status", "--json", "--config", fixture.configPath])
        let printed = try Self.json(cli)
        #expect(Set(served.keys) == Set(printed.keys))
        #expect(served["jobs"] as? [String: Int] == printed["jobs"] as? [String: Int])
        #expect((served["jobs"] as? [String: Int])?["done"] == 3)
        #expect((served["daemon"] as? [String: Any])?["running"] as? Bool == true)
        #expect(
            (served["recent_failures"] as? [[String: Any]])?.first?["error"] as? String
                == (printed["recent_failures"] as? [[String: Any]])?.first?["error"] as? String)

        let metrics = try Self.curl(base + "/metrics")
        #expect(metrics.status == 200 && metrics.headers.contains("version=0.0.4"))
        #expect(metrics.body.contains("imagedrop_jobs{state=\"done\"} 3.0"))
        try Self.expectPrometheusParses(metrics.body, fixture: fixture)

        let page = try Self.curl(base + "/")
        #expect(page.status == 200 && page.headers.lowercased().contains("content-type: text/html"))
        #expect(page.body.contains("data-state=\"done\">done <b>3</b>"))
        #expect(page.body.contains("<svg id=\"chart\""))
        #expect(
            page.body.contains("data-count=\"3\"") || page.body.components(separatedBy: "class=\"bar\"").count == 61)
        let job = try #require(try fixture.jobs().first { $0.state == .done })
        let variant = try #require(job.variants.first)
        #expect(page.body.contains(StatusPage.wrappedPath(job.path.display)))
        #expect(page.body.contains("<img class=\"thumb\" loading=\"lazy\" alt=\"\" src=\"\(variant)\">"))
        #expect(page.body.contains("not an image"))
        #expect(
            !page.body.contains("method=\"post\""), "no buttons without [http] actions (only the search's GET form)")
        #expect(!page.body.contains("<script"))

        let refused = try Self.curl(base + "/retry-failed", method: "POST", data: "csrf=x")
        #expect(refused.status == 403)
        let failed = try #require(try fixture.jobs().first { $0.state == .failed })
        #expect(try Self.curl(base + "/jobs/\(failed.id)/retry", method: "POST", data: "").status == 403)
        #expect(try fixture.store().job(id: failed.id)?.state == .failed)
        #expect(try Self.curl(base + "/nothing-here").status == 404)
        #expect(try Self.curl(base + "/metrics", method: "DELETE").status == 405)
        let big = String(repeating: "x", count: 64 << 10)
        #expect(try Self.curl(base + "/retry-failed", method: "POST", data: big).status == 413)
        #expect(try Self.curl(base + "/", headers: (0..<100).map { "X-Filler-\($0): y" }).status == 431)
        #expect(fixture.stop() == 0)
    }

    /// prometheus_client's own parser (the official library) reads every family of the exposition.
    static func expectPrometheusParses(_ text: String, fixture: DaemonFixture) throws {
        let python =
            ProcessInfo.processInfo.environment["IMAGEDROP_PYTHON"] ?? DaemonFixture.packageRoot + "/.venv/bin/python"
        let script = """
            import sys, json
            from prometheus_client.parser import text_string_to_metric_families
            families = {f.name: [[s.name, s.labels, s.value] for s in f.samples] for f in text_string_to_metric_families(sys.stdin.read())}
            print(json.dumps(families))
            """
        let input = fixture.directory + "/metrics.txt"
        try text.write(toFile: input, atomically: true, encoding: .utf8)
        let (status, out, err) = try DaemonFixture.run(
            "/bin/sh", ["-c", "\"$0\" -c \"$1\" < \"$2\"", python, script, input],
            environment: ProcessInfo.processInfo.environment)
        try #require(status == 0, "prometheus_client failed (run scripts/bootstrap.sh): \(err)")
        let families = try Self.json(out)
        for name in [
            "imagedrop_up", "imagedrop_jobs", "imagedrop_uploads", "imagedrop_failures",
            "imagedrop_request_duration_seconds",
            "imagedrop_oldest_waiting_seconds", "imagedrop_paused",
        ] {
            #expect(families[name] != nil, "family \(name)")
        }
        let jobs = try #require(families["imagedrop_jobs"] as? [[Any]])
        #expect(jobs.contains { ($0[1] as? [String: String])?["state"] == "done" && ($0[2] as? Double) == 3 })
    }

    @Test(
        "over a unix socket with actions: the page's CSRF token is required for retry-failed and jobs/{id}/retry; Host still checked"
    )
    func unixSocketActions() throws {
        let fixture = try DaemonFixture()
        let socket = fixture.directory + "/http.sock"
        try fixture.writeConfig(
            settleMillis: 100,
            extra: """
                [http]
                listen = "unix:\(socket)"
                actions = true
                """)
        try fixture.start()
        try fixture.drop("ok.png", seed: 5)
        try fixture.drop("bad1.png", bytes: Array("not an image 1".utf8))
        try fixture.drop("bad2.png", bytes: Array("not an image 2".utf8))
        #expect(fixture.waitForFinished(count: 3))
        #expect(try Self.curl("http://localhost/healthz", socket: socket).body == "ok\n")
        // The Host rule holds on the socket too: a proxy in front of it may pass a rebound browser's Host through.
        #expect(try Self.curl("http://evil.example/healthz", socket: socket).status == 421)
        #expect(try Self.curl("http://127.0.0.1/healthz", socket: socket).status == 200)
        let page = try Self.curl("http://localhost/", socket: socket)
        #expect(page.status == 200)
        let range = try #require(page.body.range(of: #"name="csrf" value="[0-9a-f.]+""#, options: .regularExpression))
        let token = String(page.body[range].dropFirst(#"name="csrf" value=""#.count).dropLast())
        #expect(page.body.contains("action=\"/retry-failed\""))

        #expect(try Self.curl("http://localhost/retry-failed", socket: socket, method: "POST", data: "").status == 403)
        #expect(
            try Self.curl("http://localhost/retry-failed", socket: socket, method: "POST", data: "csrf=0123").status
                == 403)
        let before = try fixture.jobs().filter { $0.state == .failed }
        #expect(before.count == 2 && before.allSatisfy { $0.attempts >= 0 })
        let one = try #require(before.first)
        let retried = try Self.curl(
            "http://localhost/jobs/\(one.id)/retry", socket: socket, method: "POST", data: "csrf=\(token)")
        #expect(retried.status == 303 && retried.headers.contains("Location: /"))
        #expect(retried.body.contains("1 failed jobs queued again"))
        #expect(fixture.waitForFinished(count: 3))
        let stamps = Dictionary(
            uniqueKeysWithValues: try fixture.jobs().filter { $0.state == .failed }.map { ($0.id, $0.updatedAt) })
        #expect(stamps.count == 2)
        let all = try Self.curl(
            "http://localhost/retry-failed", socket: socket, method: "POST",
            headers: ["X-Imagedrop-CSRF: \(token)"])
        #expect(all.status == 303 && all.body.contains("2 failed jobs queued again"))
        // Both were queued again (and, still not images, failed again later).
        #expect(
            fixture.waitUntil(seconds: 30) {
                guard let jobs = try? fixture.jobs().filter({ stamps[$0.id] != nil }) else { return false }
                return jobs.count == 2 && jobs.allSatisfy { $0.state == .failed && $0.updatedAt > stamps[$0.id]! }
            })
        let stopped = fixture.stop()
        if stopped != 0 { print("daemon ended with \(stopped); its log:\n" + fixture.log) }
        #expect(stopped == 0)
        #expect(!FileManager.default.fileExists(atPath: socket), "the socket is removed on stop")
    }

    @Test("/healthz is 503 naming the pause while the token is refused, 200 once it is accepted")
    func healthWhileTokenRefused() throws {
        var emulator = EmulatorConfiguration()
        emulator.faults.refuseTokens = true
        let fixture = try DaemonFixture(
            emulator: emulator,
            extraConfig: """
                [http]
                listen = "127.0.0.1:0"
                """)
        try fixture.start()
        try fixture.drop("a.png", seed: 77)
        let base = "http://" + (try Self.address(fixture))
        var reply = Reply(status: 0, headers: "", body: "")
        #expect(
            fixture.waitUntil(seconds: 30) {
                reply = (try? Self.curl(base + "/healthz")) ?? reply
                return reply.status == 503
            })
        #expect(reply.body.hasPrefix("paused: ") && reply.body.contains("token refused"))
        var faults = fixture.emulator.faults
        faults.refuseTokens = false
        fixture.emulator.setFaults(faults)
        #expect(fixture.waitUntil(seconds: 30) { (try? Self.curl(base + "/healthz"))?.status == 200 })
        #expect(fixture.waitForFinished(count: 1))
        #expect(fixture.stop() == 0)
    }

    static let chromium = "/usr/bin/chromium"

    /// Headless Chromium, kept off the network: every host but loopback resolves to nothing, so the thumbnails'
    /// CDN URLs are never fetched. Tests that may run at the same time name their own `profile`: a second Chromium
    /// on a profile in use hands its arguments to the first and exits.
    static func chromium(_ arguments: [String], profile: String = "") throws -> (Int32, String, String) {
        try DaemonFixture.run(
            chromium,
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "--user-data-dir=" + NSTemporaryDirectory() + "imagedrop-chromium-\(getpid())\(profile)",
            ] + arguments,
            environment: ProcessInfo.processInfo.environment)
    }

    @Test(
        "the page in headless Chromium: counts, the chart and a recent upload in the DOM; a phone-sized screenshot kept",
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: HTTPEndpointTests.chromium),
            "Debian's chromium is not installed"))
    func chromiumPage() throws {
        let fixture = try DaemonFixture(
            extraConfig: """
                [http]
                listen = "127.0.0.1:0"
                """)
        try fixture.start()
        for index in 0..<4 { try fixture.drop("c\(index).png", seed: UInt64(41_000 + index)) }
        #expect(fixture.waitForFinished(count: 4))
        let url = "http://" + (try Self.address(fixture)) + "/"
        let (status, dom, err) = try Self.chromium(["--dump-dom", url])
        try #require(status == 0, "chromium: \(err)")
        #expect(dom.contains("data-state=\"done\">done <b>4</b>"))
        #expect(dom.components(separatedBy: "class=\"bar\"").count - 1 == 60)
        #expect(
            dom.contains("data-count=\"4\"") || dom.contains("data-count=\"3\"") || dom.contains("data-count=\"2\""))
        #expect(dom.components(separatedBy: "class=\"upload\"").count - 1 == 4)
        let job = try #require(try fixture.jobs().first)
        #expect(dom.contains(StatusPage.wrappedPath(job.path.display)))

        let artifacts = DaemonFixture.packageRoot + "/.build/test-artifacts"
        try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)
        let shot = artifacts + "/status-page.png"
        try? FileManager.default.removeItem(atPath: shot)
        let (shotStatus, _, shotErr) = try Self.chromium([
            "--screenshot=" + shot, "--window-size=412,915", "--hide-scrollbars", url,
        ])
        #expect(shotStatus == 0, "chromium screenshot: \(shotErr)")
        let png = try #require(FileManager.default.contents(atPath: shot))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        print("[http] screenshot \(shot) (\(png.count) bytes)")
        #expect(fixture.stop() == 0)
    }

    @Test("a non-loopback listen address is a config error (78) unless allow_remote = true")
    func remoteRefused() throws {
        let fixture = try DaemonFixture(
            extraConfig: """
                [http]
                listen = "0.0.0.0:0"
                """)
        let (status, _, err) = try fixture.runCommand(["run", "--config", fixture.configPath])
        #expect(status == 78)
        #expect(err.contains("http.listen") && err.contains("allow_remote"))
        try fixture.writeConfig(
            settleMillis: 100,
            extra: """
                [http]
                listen = "0.0.0.0:0"
                allow_remote = true
                """)
        try fixture.start()
        #expect(try Self.address(fixture).hasPrefix("0.0.0.0:"))
        #expect(
            fixture.log.contains("wildcard address with no allowed_hosts"),
            "the operator learns why remote clients get 421")
        #expect(fixture.stop() == 0)
    }
}
