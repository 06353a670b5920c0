import ImagedropSupport
import ImagedropSystem
import Glibc

extension Config {
    /// `[http]`: the status endpoint. Off while `listen` is unset.
    public struct HTTP: Sendable, Equatable {
        public enum Listen: Sendable, Equatable, CustomStringConvertible {
            case tcp(host: String, port: Int)
            case unix(path: String)

            public var description: String {
                switch self {
                case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
                case .unix(let path): "unix:\(path)"
                }
            }
        }

        public init() {}
        public var listen: Listen?          // listen: "127.0.0.1:9731" | "[::1]:9731" | "unix:/run/imagedrop/http.sock"
        public var allowRemote = false      // allow_remote: a non-loopback address is refused without it
        public var actions = false          // actions: POST /jobs/{id}/retry and /retry-failed (CSRF token from the page)

        package static func parse(_ section: TOMLSection) throws -> HTTP {
            try section.rejectUnknown(allowed: ["listen", "allow_remote", "actions"])
            var http = HTTP()
            http.allowRemote = try section.bool("allow_remote") ?? false
            http.actions = try section.bool("actions") ?? false
            guard let text = try section.string("listen") else { return http }
            let listen = try parseListen(text, section: section)
            if case .tcp(let host, _) = listen, !isLoopback(host), !http.allowRemote {
                throw section.error("listen", "\"\(text)\" is not a loopback address; the page shows paths and image URLs to "
                                    + "anyone who reaches it: set allow_remote = true to listen there anyway")
            }
            http.listen = listen
            return http
        }

        package static func parseListen(_ text: String, section: TOMLSection) throws -> Listen {
            if text.hasPrefix("unix:") {
                let path = String(text.dropFirst(5))
                guard path.hasPrefix("/"), path.utf8.count < 108 else {
                    throw section.error("listen", "a unix socket needs an absolute path under 108 bytes (got \"\(path)\")")
                }
                return .unix(path: path)
            }
            let host: Substring
            let portText: Substring
            if text.hasPrefix("[") {
                guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                    throw section.error("listen", "must be \"HOST:PORT\", \"[IPv6]:PORT\" or \"unix:/path\" (got \"\(text)\")")
                }
                host = text[text.index(after: text.startIndex)..<close]
                portText = text[text.index(close, offsetBy: 2)...]
            } else {
                guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
                    throw section.error("listen", "must be \"HOST:PORT\", \"[IPv6]:PORT\" or \"unix:/path\" (got \"\(text)\")")
                }
                host = text[..<colon]
                portText = text[text.index(after: colon)...]
            }
            guard let port = Int(portText), (0...65535).contains(port) else {
                throw section.error("listen", "port must be 0–65535 (got \"\(portText)\")")
            }
            guard isIPLiteral(String(host)) else {
                throw section.error("listen", "host must be an IP address such as 127.0.0.1 or [::1] (got \"\(host)\")")
            }
            return .tcp(host: String(host), port: port)
        }

        package static func isIPLiteral(_ host: String) -> Bool {
            var v4 = in_addr()
            var v6 = in6_addr()
            return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
        }

        /// 127.0.0.0/8 and ::1 (an IPv4-mapped loopback too).
        public static func isLoopback(_ host: String) -> Bool {
            var v4 = in_addr()
            if inet_pton(AF_INET, host, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
            var v6 = in6_addr()
            guard inet_pton(AF_INET6, host, &v6) == 1 else { return false }
            let bytes = withUnsafeBytes(of: v6) { Array($0) }
            if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }
            return bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF && bytes[12] == 127
        }
    }
}
