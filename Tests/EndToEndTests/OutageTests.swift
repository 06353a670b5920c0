import Foundation
import Glibc
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import ImagedropTestSupport
import ImagesEmulator
import Testing

/// Issue 9 item 11: an outage must not fail the queue. Before the fix every job burnt `max_attempts` on
/// connection errors, timeouts or a TLS refusal and ended `failed`.
@Suite("API outages", .serialized)
struct OutageTests {
    /// Two attempts at most 200 ms apart: without the pause every job fails within a second.
    static let upload = """
        workers = 4
        max_attempts = 2
        backoff_initial_ms = 50
        backoff_max_ms = 200
        request_timeout_s = 5
        shutdown_grace_s = 5
        pause_probe_s = 1
        """

    static func pausedReason(_ fixture: DaemonFixture) -> String? {
        guard let (status, out, _) = try? fixture.runCommand(["status", "--config", fixture.configPath, "--json"]),
            status == 0,
            let object = try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any],
            let daemon = object["daemon"] as? [String: Any]
        else { return nil }
        return daemon["paused"] as? String
    }

    static func count(_ text: String, in log: String) -> Int { log.components(separatedBy: text).count - 1 }

    @Test(
        "nothing listening on the API's port for many probes: jobs stay queued with 0 attempts; the API back on the same port: all done"
    )
    func connectionRefused() throws {
        let fixture = try DaemonFixture(settleMillis: 0)
        try fixture.writeConfig(settleMillis: 0, uploadSection: Self.upload)
        let port = fixture.emulator.port
        try fixture.emulator.stop()
        try fixture.start()
        for index in 0..<3 { try fixture.drop("o\(index).png", seed: UInt64(900 + index)) }
        #expect(fixture.waitUntil(seconds: 30) { Self.pausedReason(fixture)?.hasPrefix("API unreachable:") == true })
        // Several probes, each a second apart: far longer than max_attempts × backoff_max_ms (400 ms).
        #expect(fixture.waitUntil(seconds: 30) { Self.count("API still unreachable", in: fixture.log) >= 3 })
        let reason = Self.pausedReason(fixture)
        let during = try fixture.jobs()
        print(
            "[outage refused] paused=\(reason ?? "nil") states=\(during.map(\.state.rawValue)) attempts=\(during.map(\.attempts))"
        )
        #expect(reason?.contains("curl error 7") == true)
        #expect(during.count == 3)
        #expect(during.allSatisfy { $0.state != .failed && $0.attempts == 0 })

        var configuration = EmulatorConfiguration()
        configuration.port = port
        let back = try EmulatorServer.start(configuration)
        defer { try? back.stop() }
        #expect(fixture.waitForFinished(count: 3, seconds: 30))
        let jobs = try fixture.jobs()
        #expect(
            jobs.allSatisfy { $0.state == .done && $0.attempts == 1 },
            "\(jobs.map { "\($0.state) \($0.attempts) \($0.lastError ?? "")" })")
        #expect(back.storedImages().count == 3)
        #expect(Self.pausedReason(fixture) == nil)
        #expect(fixture.log.contains("API reachable again; queue resumed"))
        #expect(fixture.stop() == 0)
    }

    @Test(
        "every request timing out: after a few per-job retries the pool pauses; no job fails; replies again: all done")
    func everyRequestTimesOut() throws {
        let fixture = try DaemonFixture(settleMillis: 0)
        // max_attempts above the outage threshold (4 requests in a row without a reply).
        try fixture.writeConfig(
            settleMillis: 0,
            uploadSection: """
                workers = 2
                max_attempts = 4
                backoff_initial_ms = 50
                backoff_max_ms = 200
                request_timeout_s = 1
                shutdown_grace_s = 2
                pause_probe_s = 1
                """)
        var faults = FaultConfiguration()
        faults.latencyMs = 3000
        fixture.emulator.setFaults(faults)
        try fixture.start()
        for index in 0..<2 { try fixture.drop("t\(index).png", seed: UInt64(950 + index)) }
        #expect(
            fixture.waitUntil(seconds: 40) {
                Self.pausedReason(fixture)?.contains("requests in a row got no reply") == true
            })
        #expect(fixture.waitUntil(seconds: 40) { Self.count("API still unreachable", in: fixture.log) >= 2 })
        let during = try fixture.jobs()
        print("[outage timeouts] paused=\(Self.pausedReason(fixture) ?? "nil") attempts=\(during.map(\.attempts))")
        #expect(during.allSatisfy { $0.state != .failed && $0.attempts < 4 })

        fixture.emulator.setFaults(FaultConfiguration())
        #expect(fixture.waitForFinished(count: 2, seconds: 40))
        let jobs = try fixture.jobs()
        #expect(jobs.allSatisfy { $0.state == .done }, "\(jobs.map { "\($0.state) \($0.lastError ?? "")" })")
        #expect(fixture.stop() == 0)
    }

    @Test("cloudflare.ca_file that does not exist: 78 naming the key")
    func missingCAFile() throws {
        let fixture = try DaemonFixture()
        var text = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        text = text.replacingOccurrences(
            of: "api_base_url = ", with: "ca_file = \"\(fixture.directory)/nope.pem\"\napi_base_url = ")
        try text.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        let (status, _, error) = try fixture.runCommand(["check", "--config", fixture.configPath])
        #expect(status == 78)
        #expect(error.contains("cloudflare.ca_file") && error.contains("does not exist"), "\(error)")
    }

    static let nginx = "/usr/sbin/nginx"

    @Test(
        "over TLS through nginx with a throwaway certificate: untrusted → paused 'TLS: …', 0 attempts; ca_file + SIGHUP → all done",
        .enabled(if: FileManager.default.isExecutableFile(atPath: OutageTests.nginx), "nginx is not installed"))
    func tlsProxy() throws {
        let fixture = try DaemonFixture(settleMillis: 0)
        let proxy = try TLSProxy(directory: fixture.directory, upstreamPort: fixture.emulator.port)
        defer { proxy.stop() }
        try fixture.writeConfig(settleMillis: 0, uploadSection: Self.upload)
        let plain = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
            .replacingOccurrences(of: fixture.emulator.apiBaseURL, with: proxy.apiBaseURL)
        try plain.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)

        try fixture.start()
        for index in 0..<3 { try fixture.drop("s\(index).png", seed: UInt64(990 + index)) }
        #expect(fixture.waitUntil(seconds: 30) { Self.pausedReason(fixture)?.hasPrefix("TLS:") == true })
        #expect(fixture.waitUntil(seconds: 30) { Self.count("API still unreachable", in: fixture.log) >= 2 })
        let during = try fixture.jobs()
        print(
            "[tls] paused=\(Self.pausedReason(fixture) ?? "nil") attempts=\(during.map(\.attempts)) emulator requests=\(fixture.emulator.requestLog().count)"
        )
        #expect(Self.pausedReason(fixture)?.contains("curl error 60") == true)
        #expect(during.count == 3 && during.allSatisfy { $0.state != .failed && $0.attempts == 0 })
        #expect(fixture.emulator.requestLog().isEmpty)

        let trusted = plain.replacingOccurrences(
            of: "api_base_url = ", with: "ca_file = \"\(proxy.certificate)\"\napi_base_url = ")
        try trusted.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        kill(try #require(fixture.process).processIdentifier, SIGHUP)
        #expect(fixture.waitForFinished(count: 3, seconds: 30))
        let jobs = try fixture.jobs()
        #expect(
            jobs.allSatisfy { $0.state == .done && $0.attempts == 1 },
            "\(jobs.map { "\($0.state) \($0.attempts) \($0.lastError ?? "")" })")
        #expect(fixture.emulator.storedImages().count == 3)
        #expect(fixture.stop() == 0)
    }
}

/// nginx terminating TLS on a loopback port with a self-signed certificate made for this test, proxying to
/// the emulator. Stopped (by its own pid) in `stop()`.
final class TLSProxy {
    let certificate: String
    let port: Int
    private let process: Process

    var apiBaseURL: String { "https://127.0.0.1:\(port)/client/v4" }

    init(directory: String, upstreamPort: Int) throws {
        let folder = directory + "/nginx"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        certificate = folder + "/cert.pem"
        let key = folder + "/key.pem"
        let (made, _, opensslError) = try DaemonFixture.run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "1",
                "-subj", "/CN=imagedrop-test", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            ], environment: ProcessInfo.processInfo.environment)
        guard made == 0 else { throw FixtureError("openssl req failed: \(opensslError)") }
        port = try LoopbackPort.free()
        let conf = """
            \(getuid() == 0 ? "user root;" : "")
            worker_processes 1;
            pid \(folder)/nginx.pid;
            error_log \(folder)/error.log;
            events { worker_connections 64; }
            http {
                access_log off;
                client_body_temp_path \(folder)/body;
                proxy_temp_path \(folder)/proxy;
                fastcgi_temp_path \(folder)/fastcgi;
                uwsgi_temp_path \(folder)/uwsgi;
                scgi_temp_path \(folder)/scgi;
                client_max_body_size 20m;
                server {
                    listen 127.0.0.1:\(port) ssl;
                    ssl_certificate \(certificate);
                    ssl_certificate_key \(key);
                    location / {
                        proxy_pass http://127.0.0.1:\(upstreamPort);
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                    }
                }
            }
            """
        try conf.write(toFile: folder + "/nginx.conf", atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: OutageTests.nginx)
        process.arguments = ["-p", folder, "-c", folder + "/nginx.conf", "-g", "daemon off;"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let deadline = Date().addingTimeInterval(15)
        while !LoopbackPort.accepts(port) {
            guard process.isRunning, Date() < deadline else {
                let log = (try? String(contentsOfFile: folder + "/error.log", encoding: .utf8)) ?? ""
                stop()
                throw FixtureError("nginx did not start: \(log)")
            }
            usleep(20_000)
        }
    }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }
}
