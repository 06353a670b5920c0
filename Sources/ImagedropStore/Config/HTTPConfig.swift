import FoundationEssentials
import Glibc
import ImagedropSupport
import ImagedropSystem

extension Config {
    /// `[http]`: the status endpoint. Off while `listen` is unset.
    package struct HTTP: Sendable, Equatable {
        package enum Listen: Sendable, Equatable, CustomStringConvertible {
            case tcp(host: String, port: Int)
            case unix(path: String)

            package var description: String {
                switch self {
                case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
                case .unix(let path): "unix:\(path)"
                }
            }
        }

        package init() {}
        package var listen: Listen?  // listen: "127.0.0.1:9731" | "[::1]:9731" | "unix:/run/imagedrop/http.sock"
        package var allowRemote = false  // allow_remote: a non-loopback address is refused without it
        package var actions = false  // actions: POST /jobs/{id}/retry and /retry-failed (CSRF token from the page)
        package var allowedHosts: [String] = []  // allowed_hosts: Host names answered besides localhost and loopback
        package var maxConnections = 64  // max_connections: more are closed as they arrive
        package var requestTimeoutSeconds = 10  // request_timeout_s: a request's head and body, from its first byte
        package var tokenFile: String?  // token_file: the bearer token for actions (required with allow_remote)
        /// The token's bytes, read at load. Never printed: its description is redacted.
        package var token: HTTPToken?

        package static let keys: Set<String> = [
            "listen", "allow_remote", "actions", "allowed_hosts", "max_connections",
            "request_timeout_s", "token_file",
        ]

        /// `readToken` is off for the commands that only read the table, as for the webhook secret.
        package static func parse(_ section: TOMLSection, readToken: Bool = true) throws -> HTTP {
            try section.rejectUnknown(allowed: keys)
            var http = HTTP()
            http.allowRemote = try section.bool("allow_remote") ?? false
            http.actions = try section.bool("actions") ?? false
            http.allowedHosts = try (section.strings("allowed_hosts") ?? []).map {
                try allowedHost($0, section: section)
            }
            http.maxConnections = try section.int("max_connections", min: 1, max: 4096) ?? 64
            http.requestTimeoutSeconds = try section.int("request_timeout_s", min: 1, max: 120) ?? 10
            http.tokenFile = try section.path("token_file")
            if http.allowRemote, http.actions, http.tokenFile == nil {
                throw section.error(
                    "token_file",
                    "required with allow_remote = true and actions = true (a file holding the "
                        + "bearer token that actions must send, e.g. from `openssl rand -hex 32`)")
            }
            if readToken, let file = http.tokenFile { http.token = try HTTPToken.read(file, section: section) }
            guard let text = try section.string("listen") else { return http }
            let listen = try parseListen(text, section: section)
            if case .tcp(let host, _) = listen, !isLoopback(host), !http.allowRemote {
                throw section.error(
                    "listen",
                    "\"\(text)\" is not a loopback address; the page shows paths and image URLs to "
                        + "anyone who reaches it: set allow_remote = true to listen there anyway")
            }
            http.listen = listen
            return http
        }

        package static func parseListen(_ text: String, section: TOMLSection) throws -> Listen {
            if text.hasPrefix("unix:") {
                let path = String(text.dropFirst(5))
                guard path.hasPrefix("/"), path.utf8.count < 108 else {
                    throw section.error(
                        "listen", "a unix socket needs an absolute path under 108 bytes (got \"\(path)\")")
                }
                return .unix(path: path)
            }
            let host: Substring
            let portText: Substring
            if text.hasPrefix("[") {
                guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                    throw section.error(
                        "listen", "must be \"HOST:PORT\", \"[IPv6]:PORT\" or \"unix:/path\" (got \"\(text)\")")
                }
                host = text[text.index(after: text.startIndex)..<close]
                portText = text[text.index(close, offsetBy: 2)...]
            } else {
                guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
                    throw section.error(
                        "listen", "must be \"HOST:PORT\", \"[IPv6]:PORT\" or \"unix:/path\" (got \"\(text)\")")
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

        /// An `allowed_hosts` entry: a DNS name or an IP address (IPv6 in brackets), with an optional port, as a
        /// Host header carries it. Lowercased; wildcards and URLs are refused, so nothing matches by accident.
        package static func allowedHost(_ entry: String, section: TOMLSection) throws -> String {
            let lowered = entry.lowercased()
            guard !lowered.contains("/") else {
                throw section.error(
                    "allowed_hosts", "\"\(entry)\" is not a host: write the name alone, e.g. \"status.example.com\"")
            }
            let port: Substring?
            if lowered.hasPrefix("[") {
                let notIPv6 = section.error(
                    "allowed_hosts", "\"\(entry)\" is not a bracketed IPv6 address such as \"[fe80::1]\"")
                guard let close = lowered.firstIndex(of: "]") else { throw notIPv6 }
                let inner = lowered[lowered.index(after: lowered.startIndex)..<close]
                let rest = lowered[lowered.index(after: close)...]
                guard inner.contains(":"), isIPLiteral(String(inner)), rest.isEmpty || rest.hasPrefix(":") else {
                    throw notIPv6
                }
                port = rest.isEmpty ? nil : rest.dropFirst()
            } else {
                let pieces = lowered.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
                guard pieces.count <= 2 else {
                    throw section.error(
                        "allowed_hosts", "\"\(entry)\": write an IPv6 address in brackets, e.g. \"[fe80::1]\"")
                }
                let name = pieces[0]
                guard !name.isEmpty, name.utf8.count <= 253,
                    name.allSatisfy({
                        $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_")
                    })
                else {
                    throw section.error(
                        "allowed_hosts", "\"\(entry)\" is not a host name (ASCII letters, digits, '-', '.', '_')")
                }
                port = pieces.count == 2 ? pieces[1] : nil
            }
            if let port {
                guard (1...5).contains(port.count), port.allSatisfy({ $0.isASCII && $0.isNumber }),
                    let number = Int(port), (1...65535).contains(number)
                else {
                    throw section.error("allowed_hosts", "\"\(entry)\" has a port that is not 1–65535")
                }
            }
            return lowered
        }

        package static func isIPLiteral(_ host: String) -> Bool {
            var v4 = in_addr()
            var v6 = in6_addr()
            return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
        }

        /// 127.0.0.0/8 and ::1 (an IPv4-mapped loopback too).
        package static func isLoopback(_ host: String) -> Bool {
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
