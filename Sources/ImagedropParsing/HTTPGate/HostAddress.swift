import Glibc

/// A `Host` header value (or an `Origin`'s authority, or an `allowed_hosts` entry) taken apart: a lowercase
/// name or IP literal and an optional port. Anything that is not plainly `name[:port]`, `a.b.c.d[:port]` or
/// `[IPv6][:port]` is nil: a strange value is refused rather than guessed at.
///
/// Pure and total: imports only Glibc (for `inet_pton`, reached only after the characters are checked, so no NUL
/// or other byte can shorten what it reads), and no input traps.
package struct HostAddress: Equatable, Sendable {
    package enum Kind: Equatable, Sendable {
        case name(String)
        /// Four bytes, as written in dotted-decimal form.
        case ipv4([UInt8])
        /// Sixteen bytes, so `[::1]` and `[0:0:0:0:0:0:0:1]` are the same address.
        case ipv6([UInt8])
    }

    package var kind: Kind
    package var port: Int?

    /// DNS allows 253 characters in a name; an IPv6 literal with an embedded IPv4 is at most 45.
    package static let maxNameLength = 253
    package static let maxIPv6Length = 45

    package init(kind: Kind, port: Int?) {
        self.kind = kind
        self.port = port
    }

    /// `value` trimmed of spaces and tabs; nil when it is not a host with an optional port.
    package static func parse(_ value: String) -> HostAddress? {
        let bytes = Array(trimmed(value.utf8))
        guard !bytes.isEmpty, bytes.count <= maxNameLength + 8 else { return nil }
        let hostBytes: ArraySlice<UInt8>
        let portBytes: ArraySlice<UInt8>?
        if bytes[0] == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            hostBytes = bytes[1..<close]
            let rest = bytes[(close + 1)...]
            if rest.isEmpty {
                portBytes = nil
            } else {
                guard rest.first == UInt8(ascii: ":") else { return nil }
                portBytes = rest.dropFirst()
            }
            let port = port(portBytes)
            guard port.valid, let address = ipv6(hostBytes) else { return nil }
            return HostAddress(kind: .ipv6(address), port: port.value)
        }
        let colons = bytes.indices.filter { bytes[$0] == UInt8(ascii: ":") }
        // An IPv6 literal must be bracketed in a Host header; two colons outside brackets is not a host.
        guard colons.count <= 1 else { return nil }
        if let colon = colons.first {
            hostBytes = bytes[..<colon]
            portBytes = bytes[(colon + 1)...]
        } else {
            hostBytes = bytes[...]
            portBytes = nil
        }
        let port = port(portBytes)
        guard port.valid else { return nil }
        if let address = ipv4(hostBytes) { return HostAddress(kind: .ipv4(address), port: port.value) }
        guard let name = name(hostBytes) else { return nil }
        return HostAddress(kind: .name(name), port: port.value)
    }

    /// An address as the listen key holds it (`127.0.0.1`, `::1`, no brackets, no port).
    package static func parseLiteral(_ text: String) -> Kind? {
        let bytes = Array(text.utf8)
        guard bytes.count <= maxIPv6Length else { return nil }
        if let address = ipv4(bytes[...]) { return .ipv4(address) }
        return ipv6(bytes[...]).map { .ipv6($0) }
    }

    /// 127.0.0.0/8, ::1 and the IPv4-mapped 127.0.0.0/8.
    package var isLoopback: Bool {
        switch kind {
        case .name: return false
        case .ipv4(let bytes): return bytes.first == 127
        case .ipv6(let bytes): return Self.isLoopbackIPv6(bytes)
        }
    }

    package static func isLoopbackIPv6(_ bytes: [UInt8]) -> Bool {
        guard bytes.count == 16 else { return false }
        if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }
        return bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF && bytes[12] == 127
    }

    /// 0.0.0.0 and :: listen everywhere: no client names the server by them.
    package static func isWildcard(_ kind: Kind) -> Bool {
        switch kind {
        case .name: return false
        case .ipv4(let bytes), .ipv6(let bytes): return bytes.allSatisfy { $0 == 0 }
        }
    }

    // MARK: - The pieces

    private static func trimmed(_ bytes: String.UTF8View) -> ArraySlice<UInt8> {
        var slice = ArraySlice(bytes)
        while let first = slice.first, first == 0x20 || first == 0x09 { slice.removeFirst() }
        while let last = slice.last, last == 0x20 || last == 0x09 { slice.removeLast() }
        return slice
    }

    /// An empty port (`host:`) is allowed by RFC 3986 and means none.
    private static func port(_ bytes: ArraySlice<UInt8>?) -> (valid: Bool, value: Int?) {
        guard let bytes, !bytes.isEmpty else { return (true, nil) }
        // Five digits at most, checked before any arithmetic, so `:99999999999999999999` cannot overflow.
        guard bytes.count <= 5, bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return (false, nil) }
        let value = bytes.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        return value <= 65535 ? (true, value) : (false, nil)
    }

    /// Strict dotted decimal, four parts of one to three digits each at most 255 (`127.1` and `0x7f.1` are names
    /// here, and then refused as names that are not listed).
    private static func ipv4(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var address: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            let value = part.reduce(0) { $0 * 10 + Int($1 - 0x30) }
            guard value <= 255 else { return nil }
            address.append(UInt8(value))
        }
        return address
    }

    private static func ipv6(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        guard (2...maxIPv6Length).contains(bytes.count),
            bytes.allSatisfy({ isHexDigit($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") })
        else { return nil }
        // Only hex digits, colons and dots reach inet_pton: the C string it reads is exactly these bytes.
        var text = Array(bytes)
        text.append(0)
        var address = in6_addr()
        let parsed = text.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                inet_pton(AF_INET6, $0, &address)
            }
        }
        guard parsed == 1 else { return nil }
        return withUnsafeBytes(of: address) { Array($0) }
    }

    /// Letters, digits, `-`, `_` and `.`, lowercased; one trailing dot (the absolute form `localhost.`) dropped.
    private static func name(_ bytes: ArraySlice<UInt8>) -> String? {
        var slice = bytes
        if slice.last == UInt8(ascii: ".") { slice.removeLast() }
        guard !slice.isEmpty, slice.count <= maxNameLength else { return nil }
        var lowered: [UInt8] = []
        lowered.reserveCapacity(slice.count)
        for byte in slice {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): lowered.append(byte + 32)
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
                lowered.append(byte)
            default: return nil
            }
        }
        return String(decoding: lowered, as: UTF8.self)
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x46).contains(byte) || (0x61...0x66).contains(byte)
    }
}
