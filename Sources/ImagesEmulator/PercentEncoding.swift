/// Percent-decoding of request targets. Image ids arrive `%2F`-encoded from the Python and TypeScript SDKs and
/// raw from the Go SDK, so path segments are split on raw `/` first and decoded afterwards.
enum PercentEncoding {
    /// Decodes `%XX` escapes (and `+` as space when `plusIsSpace`, for query strings). nil when an escape is
    /// malformed or the result is not UTF-8.
    static func decode(_ text: Substring, plusIsSpace: Bool = false) -> String? {
        let utf8 = Array(text.utf8)
        guard utf8.contains(UInt8(ascii: "%")) || (plusIsSpace && utf8.contains(UInt8(ascii: "+"))) else {
            return String(text)
        }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count)
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < utf8.count, let high = hexValue(utf8[index + 1]), let low = hexValue(utf8[index + 2])
                else { return nil }
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index += 1
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x41...0x46: return byte - 0x41 + 10
        case 0x61...0x66: return byte - 0x61 + 10
        default: return nil
        }
    }

    /// Encodes everything but RFC 3986 unreserved characters and `/` (used in delivery URLs, where the docs
    /// ask for `%` in custom ids to be written `%25` and keep subpaths as path segments).
    static func encodePath(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"), UInt8(ascii: "/"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }
}

/// A request target split into its path and decoded query items (in order; repeated names kept).
struct RequestTarget: Sendable {
    let rawPath: Substring
    let query: [(name: String, value: String)]

    init(_ uri: String) {
        if let mark = uri.firstIndex(of: "?") {
            rawPath = uri[..<mark]
            query = RequestTarget.parseQuery(uri[uri.index(after: mark)...])
        } else {
            rawPath = uri[...]
            query = []
        }
    }

    static func parseQuery(_ text: Substring) -> [(name: String, value: String)] {
        text.split(separator: "&", omittingEmptySubsequences: true).map { item in
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = PercentEncoding.decode(parts[0], plusIsSpace: true) ?? String(parts[0])
            let value = parts.count > 1 ? (PercentEncoding.decode(parts[1], plusIsSpace: true) ?? String(parts[1])) : ""
            return (name, value)
        }
    }

    func queryValue(_ name: String) -> String? {
        query.last(where: { $0.name == name })?.value
    }
}
