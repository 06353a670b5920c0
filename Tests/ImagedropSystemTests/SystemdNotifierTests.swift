import Foundation
import Glibc
import ImagedropSystem
import Testing

/// A datagram socket standing in for systemd's notify socket: bound to a path in a temp dir, or to a
/// random name in the abstract namespace.
private final class NotifyListener {
    let fd: Int32
    let address: String
    private let directory: String?

    init(abstract: Bool) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(fd >= 0)
        var name: [UInt8]
        if abstract {
            address = "@imagedrop-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            directory = nil
            name = Array(address.utf8)
            name[0] = 0
        } else {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            directory = dir
            address = dir + "/notify.sock"
            name = Array(address.utf8) + [0]
        }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: name) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + name.count)
        let result = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        try #require(result == 0, "bind failed: errno \(errno)")
        // A missing datagram must fail the test, not hang it.
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close(fd)
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
    }

    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count < 0 ? nil : String(decoding: buffer[..<count], as: UTF8.self)
    }
}

@Suite("SystemdNotifier")
struct SystemdNotifierTests {
    @Test("Without NOTIFY_SOCKET the notifier is disabled and every call is a harmless no-op")
    func disabledWithoutSocket() {
        let notifier = SystemdNotifier(environment: [:])
        #expect(!notifier.isEnabled)
        #expect(!notifier.ready())
        #expect(notifier.watchdogInterval == nil)
    }

    @Test("READY, STATUS, WATCHDOG and STOPPING arrive as separate datagrams on a filesystem socket")
    func filesystemSocket() throws {
        let listener = try NotifyListener(abstract: false)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.address])
        #expect(notifier.isEnabled)

        #expect(notifier.ready())
        #expect(notifier.status("312 queued, 4 uploading"))
        #expect(notifier.watchdog())
        #expect(notifier.stopping())
        #expect(listener.receive() == "READY=1\n")
        #expect(listener.receive() == "STATUS=312 queued, 4 uploading\n")
        #expect(listener.receive() == "WATCHDOG=1\n")
        #expect(listener.receive() == "STOPPING=1\n")
    }

    @Test("An abstract-namespace socket given with a leading @ receives the datagram")
    func abstractSocket() throws {
        let listener = try NotifyListener(abstract: true)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.address])
        #expect(notifier.send(["READY": "1", "STATUS": "ready"]))
        #expect(listener.receive() == "READY=1\nSTATUS=ready\n")
    }

    @Test("RELOADING carries a CLOCK_MONOTONIC timestamp in microseconds")
    func reloadingTimestamp() throws {
        let listener = try NotifyListener(abstract: true)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.address])
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let before = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
        #expect(notifier.reloading())

        let lines = try #require(listener.receive()).split(separator: "\n")
        #expect(lines.first == "RELOADING=1")
        let stamp = try #require(lines.last.flatMap { UInt64($0.dropFirst("MONOTONIC_USEC=".count)) })
        #expect(lines.last?.hasPrefix("MONOTONIC_USEC=") == true)
        #expect(stamp >= before && stamp < before + 5_000_000)
    }

    @Test("A newline inside STATUS cannot inject a second field")
    func newlineInValue() throws {
        let listener = try NotifyListener(abstract: true)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.address])
        notifier.status("line one\nREADY=1")
        #expect(listener.receive() == "STATUS=line one READY=1\n")
    }

    @Test("A socket nobody listens on, or an unsupported address, fails quietly")
    func unreachableSocket() {
        #expect(!SystemdNotifier(environment: ["NOTIFY_SOCKET": "/nonexistent/dir/notify.sock"]).ready())
        #expect(!SystemdNotifier(environment: ["NOTIFY_SOCKET": "vsock:2:1234"]).isEnabled)
        #expect(!SystemdNotifier(environment: ["NOTIFY_SOCKET": "/" + String(repeating: "x", count: 200)]).isEnabled)
    }

    @Test("The watchdog interval is half of WATCHDOG_USEC, and only for this process")
    func watchdogInterval() {
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "60000000"]).watchdogInterval == 30)
        let mine = ["WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "\(getpid())"]
        #expect(SystemdNotifier(environment: mine).watchdogInterval == 5)
        let other = ["WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "\(getpid() + 1)"]
        #expect(SystemdNotifier(environment: other).watchdogInterval == nil)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "0"]).watchdogInterval == nil)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "soon"]).watchdogInterval == nil)
    }
}
