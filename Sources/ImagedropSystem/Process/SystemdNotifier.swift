import FoundationEssentials
import Glibc
import ImagedropSupport

/// The sd_notify protocol, spoken directly: one `KEY=VALUE\n…` datagram per call to the AF_UNIX socket named
/// by `$NOTIFY_SOCKET`. Written here rather than linking libsystemd so the binary has no systemd dependency
/// and runs unchanged outside systemd (where `$NOTIFY_SOCKET` is unset and every call is a no-op).
///
/// Nothing here throws or crashes: a lost notification costs at worst a start-up timeout or a watchdog
/// restart, while a notifier that can fail would put systemd's bookkeeping in the daemon's critical path.
package final class SystemdNotifier: Sendable {
    /// The `sockaddr_un` to send to, already encoded; nil when not running under a notify-aware manager.
    private let address: SocketAddress?
    private let watchdogMicroseconds: UInt64?

    package init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        address = environment["NOTIFY_SOCKET"].flatMap(SocketAddress.init(notifySocket:))
        watchdogMicroseconds = Self.watchdog(environment: environment)
    }

    package var isEnabled: Bool { address != nil }

    /// How often to send `WATCHDOG=1`: half of `$WATCHDOG_USEC`, as systemd recommends, so one late ping
    /// does not kill the service. Nil when the watchdog is off or meant for another process (a wrapper's pid
    /// in `$WATCHDOG_PID`).
    package var watchdogInterval: Double? {
        watchdogMicroseconds.map { Double($0) / 2 / 1_000_000 }
    }

    /// Sends the fields in one datagram (sorted by key, so the bytes are reproducible).
    /// Returns whether the datagram was handed to the kernel; callers normally ignore it.
    @discardableResult
    package func send(_ fields: [String: String]) -> Bool {
        send(pairs: fields.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }

    @discardableResult package func ready() -> Bool { send(pairs: [("READY", "1")]) }
    @discardableResult package func status(_ text: String) -> Bool { send(pairs: [("STATUS", text)]) }
    @discardableResult package func watchdog() -> Bool { send(pairs: [("WATCHDOG", "1")]) }
    @discardableResult package func stopping() -> Bool { send(pairs: [("STOPPING", "1")]) }

    /// `MONOTONIC_USEC` lets systemd ≥ 253 (Type=notify-reload) match this reload to the signal it sent;
    /// older managers ignore the unknown field.
    @discardableResult
    package func reloading() -> Bool {
        send(pairs: [("RELOADING", "1"), ("MONOTONIC_USEC", String(Timestamp.monotonicNanos() / 1000))])
    }

    /// The protocol is line-based: a newline inside a value would start a bogus field, so it becomes a space.
    @discardableResult
    package func send(pairs: [(String, String)]) -> Bool {
        guard let address else { return false }
        let text = pairs.map { key, value in
            "\(key)=\(value.replacing("\n", with: " "))\n"
        }.joined()
        return address.sendDatagram(Array(text.utf8))
    }

    private static func watchdog(environment: [String: String]) -> UInt64? {
        guard let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 else { return nil }
        if let pid = environment["WATCHDOG_PID"], pid_t(pid) != getpid() { return nil }
        return usec
    }
}

/// An encoded `sockaddr_un`. Kept as bytes, not as `sockaddr_un`, so the notifier stays trivially Sendable.
private struct SocketAddress: Sendable {
    let bytes: [UInt8]

    /// `/path` is a filesystem socket; `@name` is Linux's abstract namespace, whose address starts with a NUL
    /// byte and is *not* NUL-terminated (its length is part of the name). Anything else (e.g. systemd 254's
    /// `vsock:`) is not supported and disables notification.
    init?(notifySocket: String) {
        var path = Array(notifySocket.utf8)
        guard let first = path.first, first == UInt8(ascii: "/") || first == UInt8(ascii: "@") else { return nil }
        let abstract = first == UInt8(ascii: "@")
        if abstract { path[0] = 0 } else { path.append(0) }
        let capacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path)
        guard path.count <= capacity, abstract || !path.dropLast().contains(0) else { return nil }

        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in raw.copyBytes(from: path) }
        let length = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + path.count
        bytes = withUnsafeBytes(of: &address) { Array($0.prefix(length)) }
    }

    func sendDatagram(_ payload: [UInt8]) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        // A manager that stops reading would otherwise block the caller forever (the watchdog thread, or
        // shutdown); two seconds is far longer than systemd ever takes to drain its notify socket.
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        var address = sockaddr_un()
        withUnsafeMutableBytes(of: &address) { raw in raw.copyBytes(from: bytes) }
        return payload.withUnsafeBytes { body in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { target in
                    // MSG_NOSIGNAL: a vanished manager must give EPIPE/ECONNREFUSED, never a SIGPIPE.
                    let sent = try? Syscall.retryingOnEINTR("sendto") {
                        sendto(fd, body.baseAddress, body.count, Int32(MSG_NOSIGNAL), target, socklen_t(bytes.count))
                    }
                    return sent == body.count
                }
            }
        }
    }
}
