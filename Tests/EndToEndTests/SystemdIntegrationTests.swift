import Foundation
import Glibc
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import ImagedropTestSupport
import Testing

/// The daemon as systemd sees it: the notify conversation over a NOTIFY_SOCKET of our own, and SIGHUP.
@Suite("systemd integration", .serialized)
struct SystemdIntegrationTests {
    @Test("READY, STATUS and WATCHDOG arrive in order while running, STOPPING on SIGTERM")
    func notifyOrder() throws {
        let fixture = try DaemonFixture()
        let listener = fixture.notify
        try fixture.drop("n.png", seed: 3)
        try fixture.start(environment: ["WATCHDOG_USEC": "1000000"])
        #expect(fixture.waitUntil(seconds: 10) { listener.index(of: "WATCHDOG=1") != nil })
        let ready = try #require(listener.index(of: "READY=1"))
        let status = try #require(listener.index(of: "STATUS=", after: ready))
        let watchdog = try #require(listener.index(of: "WATCHDOG=1", after: ready))
        #expect(ready < status && ready < watchdog)
        #expect(fixture.waitForFinished(count: 1))
        #expect(
            fixture.waitUntil(seconds: 10) {
                listener.received.contains { $0.contains("STATUS=") && $0.contains("1 done") }
            })
        #expect(fixture.stop() == 0)
        let stopping = try #require(listener.index(of: "STOPPING=1"))
        #expect(stopping > watchdog)
        print("notify datagrams:", listener.received.map { $0.replacingOccurrences(of: "\n", with: " ") })
    }

    @Test("SIGHUP applies a changed config live and refuses a broken one, keeping the old")
    func reload() throws {
        let fixture = try DaemonFixture()
        let listener = fixture.notify
        let second = fixture.directory + "/second-inbox"
        try FileManager.default.createDirectory(atPath: second, withIntermediateDirectories: true)
        try fixture.start()
        let pid = fixture.process!.processIdentifier

        // A changed config: a second watch folder and more workers.
        var text = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        text = text.replacingOccurrences(
            of: "paths = [\"\(fixture.inbox)\"]", with: "paths = [\"\(fixture.inbox)\", \"\(second)\"]")
        text = text.replacingOccurrences(of: "workers = 4", with: "workers = 6")
        try text.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        kill(pid, SIGHUP)
        #expect(fixture.waitUntil(seconds: 10) { fixture.log.contains("configuration reloaded") })
        // The datagram went before the log line, but the listener's own thread reads it: wait for it as for the log.
        #expect(listener.wait(for: "RELOADING=1", seconds: 10))
        try writeFile(
            atPath: second + "/via-reload.png", contents: Data(SampleImages.png(width: 4, height: 4, seed: 77)))
        #expect(fixture.waitForFinished(count: 1))
        #expect(try fixture.jobs().first?.path.display == second + "/via-reload.png")

        // A broken config: refused with a log line; the daemon keeps running with the previous one.
        try "[cloudflare\nthis is not toml".write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        kill(pid, SIGHUP)
        #expect(fixture.waitUntil(seconds: 10) { fixture.log.contains("reload refused") })
        #expect(fixture.process?.isRunning == true)
        try fixture.drop("after-broken.png", seed: 78)
        #expect(fixture.waitForFinished(count: 2))
        #expect(fixture.counts()[.done] == 2)
        #expect(fixture.stop() == 0)
    }
}
