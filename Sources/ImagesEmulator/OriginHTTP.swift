import Foundation
import Glibc

/// A plain-HTTP GET to an origin on blocking sockets, bounded by a deadline: what the emulator needs to fetch
/// `url` uploads, with no client-side behaviour of its own (no redirect following, no auth challenge
/// handling, which FoundationNetworking on Linux hangs on when a 401 carries WWW-Authenticate).
enum OriginHTTP {
    struct Response {
        var status: Int
        var body: [UInt8]
    }

    enum Failure: Error {
        case unreachable, timedOut, tooLarge, malformed
    }

    /// HTTP/1.0 with `Connection: close`, so the body is everything until the server closes (no chunking).
    static func get(
        host: String, hostHeader: String, port: Int, target: String, headers: [String], timeoutMillis: Int,
        maxBodyBytes: Int
    ) -> Result<Response, Failure> {
        let deadline = Date().addingTimeInterval(Double(timeoutMillis) / 1000)
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            return .failure(.unreachable)
        }
        defer { freeaddrinfo(list) }
        var fd: Int32 = -1
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            let candidate = socket(current.pointee.ai_family, current.pointee.ai_socktype, current.pointee.ai_protocol)
            if candidate >= 0 {
                setTimeout(candidate, until: deadline)
                if connect(candidate, current.pointee.ai_addr, current.pointee.ai_addrlen) == 0 {
                    fd = candidate
                    break
                }
                close(candidate)
            }
            entry = current.pointee.ai_next
        }
        guard fd >= 0 else { return .failure(Date() >= deadline ? .timedOut : .unreachable) }
        defer { close(fd) }
        let request =
            (["GET \(target) HTTP/1.0", "Host: \(hostHeader)", "Connection: close"] + headers).joined(separator: "\r\n")
            + "\r\n\r\n"
        let bytes = Array(request.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return .failure(errno == EAGAIN ? .timedOut : .unreachable) }
            sent += n
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let limit = maxBodyBytes + 64 * 1024  // room for the status line and headers
        while true {
            guard Date() < deadline else { return .failure(.timedOut) }
            setTimeout(fd, until: deadline)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0, errno == EINTR { continue }
            if n < 0 { return .failure(errno == EAGAIN || errno == EWOULDBLOCK ? .timedOut : .unreachable) }
            if n == 0 { break }
            received.append(contentsOf: buffer[0..<n])
            if received.count > limit { return .failure(.tooLarge) }
        }
        return parse(received, maxBodyBytes: maxBodyBytes)
    }

    static func parse(_ bytes: [UInt8], maxBodyBytes: Int) -> Result<Response, Failure> {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = (0..<max(0, bytes.count - 3)).first(where: { Array(bytes[$0..<($0 + 4)]) == separator }) else {
            return .failure(.malformed)
        }
        let head = String(decoding: bytes[0..<end], as: UTF8.self)
        let statusLine = head.split(separator: "\r\n").first ?? ""
        let fields = statusLine.split(separator: " ")
        guard fields.count >= 2, fields[0].hasPrefix("HTTP/"), let status = Int(fields[1]) else {
            return .failure(.malformed)
        }
        let body = Array(bytes[(end + 4)...])
        guard body.count <= maxBodyBytes else { return .failure(.tooLarge) }
        return .success(Response(status: status, body: body))
    }

    private static func setTimeout(_ fd: Int32, until deadline: Date) {
        let remaining = max(0.001, deadline.timeIntervalSinceNow)
        var value = timeval(tv_sec: Int(remaining), tv_usec: Int((remaining - Double(Int(remaining))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }
}
