import Foundation
import Glibc
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import Synchronization

/// A bound AF_UNIX datagram socket collecting what a daemon sends to `$NOTIFY_SOCKET`, read on its own thread.
/// Waiters block on a condition that each datagram signals, so readiness is an event, not a log line scraped.
final class NotifyListener: Sendable {
    let path: String
    private let inbox = Inbox()

    /// The datagrams and their monotonic arrival times; shared by the reading thread and the test.
    private final class Inbox: Sendable {
        private let condition = NSCondition()
        private let state = Mutex<(messages: [String], arrivals: [UInt64])>(([], []))
        let running = Atomic<Bool>(true)

        func append(_ text: String) {
            let now = Timestamp.monotonicNanos()
            state.withLock {
                $0.messages.append(text)
                $0.arrivals.append(now)
            }
            condition.lock()
            condition.broadcast()
            condition.unlock()
        }

        var messages: [String] { state.withLock { $0.messages } }
        var entries: [(String, UInt64)] { state.withLock { Array(zip($0.messages, $0.arrivals)) } }

        /// Blocks until `condition` holds for the messages or `seconds` pass; whether it held.
        func wait(seconds: Double, until holds: ([String]) -> Bool) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            condition.lock()
            defer { condition.unlock() }
            while !holds(messages) {
                guard condition.wait(until: deadline) else { return holds(messages) }
            }
            return true
        }
    }

    init(directory: String) throws {
        path = directory + "/notify.sock"
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError(call: "socket") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        // The receive timeout bounds how long the reader takes to notice `running` went false.
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        guard rc == 0, setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size)) == 0
        else {
            let error = SystemError(call: rc == 0 ? "setsockopt" : "bind")
            close(fd)
            throw error
        }
        // The thread owns the descriptor and closes it when it ends: deinit only flips `running`, so it never
        // has to wait for the thread (nor close a descriptor the thread may still be reading).
        Thread { [inbox] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while inbox.running.load(ordering: .acquiring) {
                let count = recv(fd, &buffer, buffer.count, 0)
                if count > 0 { inbox.append(String(decoding: buffer[0..<count], as: UTF8.self)) }
            }
            close(fd)
        }.start()
    }

    deinit { inbox.running.store(false, ordering: .releasing) }

    var received: [String] { inbox.messages }

    /// Monotonic arrival times of the datagrams containing `field` (e.g. "WATCHDOG=1").
    func arrivalTimes(of field: String) -> [UInt64] {
        inbox.entries.filter { $0.0.split(separator: "\n").contains { $0 == field } }.map(\.1)
    }

    func index(of prefix: String, after start: Int = 0) -> Int? {
        Self.index(of: prefix, in: received, after: start)
    }

    /// How many datagrams carried `field` exactly (e.g. "READY=1": one per start of the daemon).
    func count(of field: String) -> Int {
        received.filter { $0.split(separator: "\n").contains { $0 == field } }.count
    }

    /// Waits for the `count`-th datagram carrying `field`, or `seconds`; whether it arrived.
    func wait(for field: String, count: Int = 1, seconds: Double) -> Bool {
        inbox.wait(seconds: seconds) { messages in
            messages.filter { $0.split(separator: "\n").contains { $0 == field } }.count >= count
        }
    }

    private static func index(of prefix: String, in all: [String], after start: Int) -> Int? {
        guard start < all.count else { return nil }
        return all[start...].firstIndex { $0.split(separator: "\n").contains { $0.hasPrefix(prefix) } }
    }
}
