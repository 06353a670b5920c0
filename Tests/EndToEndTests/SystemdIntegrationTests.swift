import Foundation
import Glibc
import ImagedropCore
import ImagedropSupport
import Testing

/// The daemon as systemd sees it: the notify conversation over a NOTIFY_SOCKET of our own, and SIGHUP.
@Suite("systemd integration", .serialized)
struct SystemdIntegrationTests {
    /// A bound AF_UNIX datagram socket collecting what the daemon sends, on its own thread.
    final class NotifyListener: @unchecked Sendable {
        // @unchecked: `messages` is only touched under `lock`.
        let path: String
        private let fd: Int32
        private let lock = NSLock()
        private var messages: [String] = []
        private var arrivals: [UInt64] = []
        private var running = true

        init(directory: String) throws {
            path = directory + "/notify.sock"
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
            }
            let rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard rc == 0 else { throw SystemError(call: "bind") }
            var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            Thread { [self] in
                var buffer = [UInt8](repeating: 0, count: 4096)
                while lock.withLock({ running }) {
                    let count = recv(fd, &buffer, buffer.count, 0)
                    if count > 0 {
                        let text = String(decoding: buffer[0..<count], as: UTF8.self)
                        let now = Timestamp.monotonicNanos()
                        lock.withLock {
                            messages.append(text)
                            arrivals.append(now)
                        }
                    }
                }
            }.start()
        }

        deinit {
            lock.withLock { running = false }
            usleep(200_000)
            close(fd)
        }

        var received: [String] { lock.withLock { messages } }

        /// Monotonic arrival times of the datagrams containing `field` (e.g. "WATCHDOG=1").
        func arrivalTimes(of field: String) -> [UInt64] {
            lock.withLock { zip(messages, arrivals).filter { $0.0.split(separator: "\n").contains { $0 == field } }.map(\.1) }
        }

        func index(of prefix: String, after start: Int = 0) -> Int? {
            let all = received
            guard start < all.count else { return nil }
            return all[start...].firstIndex { $0.split(separator: "\n").contains { $0.hasPrefix(prefix) } }
        }
    }

    @Test("READY, STATUS and WATCHDOG arrive in order while running, STOPPING on SIGTERM")
    func notifyOrder() throws {
        let fixture = try DaemonFixture()
        let listener = try NotifyListener(directory: fixture.directory)
        try fixture.drop("n.png", seed: 3)
        try fixture.start(environment: ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "1000000"])
        #expect(fixture.waitUntil(seconds: 10) { listener.index(of: "WATCHDOG=1") != nil })
        let ready = try #require(listener.index(of: "READY=1"))
        let status = try #require(listener.index(of: "STATUS=", after: ready))
        let watchdog = try #require(listener.index(of: "WATCHDOG=1", after: ready))
        #expect(ready < status && ready < watchdog)
        #expect(fixture.waitForFinished(count: 1))
        #expect(fixture.waitUntil(seconds: 10) {
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
        let listener = try NotifyListener(directory: fixture.directory)
        let second = fixture.directory + "/second-inbox"
        try FileManager.default.createDirectory(atPath: second, withIntermediateDirectories: true)
        try fixture.start(environment: ["NOTIFY_SOCKET": listener.path])
        let pid = fixture.process!.processIdentifier

        // A changed config: a second watch folder and more workers.
        var text = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        text = text.replacingOccurrences(of: "paths = [\"\(fixture.inbox)\"]", with: "paths = [\"\(fixture.inbox)\", \"\(second)\"]")
        text = text.replacingOccurrences(of: "workers = 4", with: "workers = 6")
        try text.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        kill(pid, SIGHUP)
        #expect(fixture.waitUntil(seconds: 10) { fixture.log.contains("configuration reloaded") })
        #expect(listener.index(of: "RELOADING=1") != nil)
        FileManager.default.createFile(atPath: second + "/via-reload.png", contents: Data(SampleImages.png(width: 4, height: 4, seed: 77)))
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
