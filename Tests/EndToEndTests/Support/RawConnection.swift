import Foundation
import Glibc

/// A TCP connection to 127.0.0.1 that sends exactly the bytes a test gives it, when it likes: what a slowloris,
/// a header flood or an idle connection holder does, which curl will not. Closed in deinit.
final class RawConnection {
    private(set) var fd: Int32
    private var received: [UInt8] = []
    /// The server closed (or reset) its side.
    private(set) var closed = false

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FixtureError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw FixtureError("connect to 127.0.0.1:\(port): \(reason)")
        }
    }

    deinit { close() }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// False once the server has closed: MSG_NOSIGNAL, so a closed peer is an error here, not a SIGPIPE.
    @discardableResult
    func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 && errno == EINTR { continue }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    /// Reads what arrives within `seconds` (returning early once the server closes). The text so far.
    @discardableResult
    func read(for seconds: Double) -> String {
        let deadline = Date().addingTimeInterval(seconds)
        while !closed, fd >= 0 {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { break }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(left, 1) * 1000))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 65536)
            let count = recv(fd, &buffer, buffer.count, 0)
            if count > 0 {
                received += buffer[0..<count]
            } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                closed = true
            }
        }
        return text
    }

    var text: String { String(decoding: received, as: UTF8.self) }
}
