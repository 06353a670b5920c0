import Glibc

/// A blocking HTTP/1.1 client on one TCP connection, so tests can control exactly what goes over the wire
/// (keep-alive, `Expect: 100-continue`, bodies split into pieces) and see a connection closed without reply.
final class HTTPTestClient {
    struct Response {
        let status: Int
        let headers: [(String, String)]
        let body: [UInt8]

        func header(_ name: String) -> String? {
            headers.first(where: { $0.0.lowercased() == name.lowercased() })?.1
        }

        var text: String { String(decoding: body, as: UTF8.self) }
    }

    enum Failure: Error, Equatable {
        case connect(Int32)
        case closedWithoutReply
        case malformed(String)
        case timedOut
    }

    private let fd: Int32
    private var buffered: [UInt8] = []

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 15, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw Failure.connect(code)
        }
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if sent <= 0 { return }
            offset += sent
        }
    }

    func send(_ text: String) { send(Array(text.utf8)) }

    /// Sends a request head; `body` follows unless `sendBody` is false (for `Expect: 100-continue`).
    func sendRequest(
        _ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8] = [], sendBody: Bool = true
    ) {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !headers.contains(where: {
            $0.0.lowercased() == "content-length" || $0.0.lowercased() == "transfer-encoding"
        }),
            !body.isEmpty || method == "POST" || method == "PUT" || method == "PATCH"
        {
            head += "Content-Length: \(body.count)\r\n"
        }
        head += "\r\n"
        send(Array(head.utf8) + (sendBody ? body : []))
    }

    func request(
        _ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8] = []
    ) throws -> Response {
        sendRequest(method, path, headers: headers, body: body)
        return try readResponse()
    }

    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK { throw Failure.timedOut }
            return false  // reset by peer counts as closed
        }
        if count == 0 { return false }
        buffered += chunk[0..<count]
        return true
    }

    /// Reads one response (interim 1xx responses included, as their own response).
    func readResponse() throws -> Response {
        var headEnd: Int?
        while headEnd == nil {
            headEnd = HTTPTestClient.find([13, 10, 13, 10], in: buffered)
            if headEnd == nil, try !fill() {
                throw buffered.isEmpty ? Failure.closedWithoutReply : Failure.malformed("closed inside head")
            }
        }
        let head = String(decoding: buffered[0..<headEnd!], as: UTF8.self)
        buffered.removeFirst(headEnd! + 4)
        var lines = head.split(separator: "\r\n").map(String.init)
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw Failure.malformed(head) }
        let headers = lines.map { line -> (String, String) in
            let parts = line.split(separator: ":", maxSplits: 1)
            return (String(parts[0]), parts.count > 1 ? String(parts[1].drop(while: { $0 == " " })) : "")
        }
        if status < 200 { return Response(status: status, headers: headers, body: []) }
        let length = headers.first(where: { $0.0.lowercased() == "content-length" }).flatMap { Int($0.1) } ?? 0
        while buffered.count < length {
            guard try fill() else { throw Failure.malformed("closed inside body") }
        }
        let body = Array(buffered[0..<length])
        buffered.removeFirst(length)
        return Response(status: status, headers: headers, body: body)
    }

    /// True when the server closes the connection within the receive timeout without sending anything more.
    func isClosedByPeer() -> Bool {
        (try? fill()) == false
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if Array(haystack[start..<start + needle.count]) == needle { return start }
        }
        return nil
    }
}
