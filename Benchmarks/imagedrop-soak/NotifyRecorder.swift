import Foundation
import Glibc
import ProcessHarness
import Synchronization

/// Stands in for systemd's notify socket: a unix datagram socket of the soak's own, read on a thread of its
/// own so every datagram (READY=1, WATCHDOG=1, RELOADING=1, STOPPING=1, STATUS=…) is stamped when it arrives.
final class NotifyRecorder: Sendable {
    struct Datagram: Sendable {
        let at: Double
        let lines: [String]
    }

    let path: String
    private let fd: Int32
    private let received = Mutex<[Datagram]>([])
    private let stopping = Atomic<Bool>(false)

    init(path: String) throws {
        self.path = path
        unlink(path)
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw SpawnError(description: "notify path too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard fd >= 0, rc == 0 else { throw SpawnError(description: "cannot bind notify socket \(path)") }
        let thread = Thread { [self] in self.loop() }
        thread.start()
    }

    private func loop() {
        var buffer = [UInt8](repeating: 0, count: 8192)
        while !stopping.load(ordering: .relaxed) {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 200) > 0 else { continue }
            let count = recv(fd, &buffer, buffer.count, 0)
            let at = Clock.monotonicSeconds()
            guard count > 0 else { continue }
            let lines = String(decoding: buffer[0..<count], as: UTF8.self).split(separator: "\n").map(String.init)
            received.withLock { $0.append(Datagram(at: at, lines: lines)) }
        }
    }

    func stop() {
        stopping.store(true, ordering: .relaxed)
        usleep(300_000)
        close(fd)
        unlink(path)
    }

    var datagrams: [Datagram] { received.withLock { $0 } }

    /// The monotonic time of the first datagram holding `line` at or after `since`, waiting up to `timeout`.
    func waitFor(_ line: String, since: Double, timeout: Double) -> Double? {
        var found: Double?
        Clock.waitUntil(timeout: timeout, interval: 0.02) {
            found = datagrams.first { $0.at >= since && $0.lines.contains(line) }?.at
            return found != nil
        }
        return found
    }
}
