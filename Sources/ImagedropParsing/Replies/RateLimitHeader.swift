/// Cloudflare's own word on the budget, from a reply's `Ratelimit: "default";r=50;t=30` header (the IETF
/// RateLimit-fields draft Cloudflare sends): `r` requests remain in the current window, which resets in `t`
/// seconds. The fleet's budget obeys it over its own configuration (the dashboard and every other client spend
/// the same budget).
///
/// A proxy or a broken server can put anything here, so the parser reads digits with saturation, bounds every
/// loop by the input's length, and ignores what it does not understand rather than guessing.
package struct RateLimitHeader: Sendable, Equatable {
    package var policy: String
    package var remaining: Int
    package var resetSeconds: Int

    /// A window longer than a day is no window Cloudflare uses: the hint is ignored, not obeyed for days.
    package static let maxResetSeconds = 86_400
    package static let maxRemaining = 1_000_000
    /// Longer header values are refused whole: Cloudflare's are a few dozen bytes.
    package static let maxBytes = 4_096

    package init(policy: String, remaining: Int, resetSeconds: Int) {
        self.policy = policy
        self.remaining = remaining
        self.resetSeconds = resetSeconds
    }

    /// The first list member that carries both `r` and `t` within bounds; `"default"` wins over others.
    package static func parse(_ value: String) -> RateLimitHeader? {
        let bytes = Array(value.utf8)
        guard !bytes.isEmpty, bytes.count <= maxBytes else { return nil }
        var found: [RateLimitHeader] = []
        for member in split(bytes, on: UInt8(ascii: ","), respectingQuotes: true) {
            if let parsed = parseMember(member) { found.append(parsed) }
        }
        return found.first { $0.policy == "default" } ?? found.first
    }

    private static func parseMember(_ member: ArraySlice<UInt8>) -> RateLimitHeader? {
        let parts = split(member, on: UInt8(ascii: ";"), respectingQuotes: true)
        guard let first = parts.first, let name = policyName(trim(first)) else { return nil }
        var remaining: Int?
        var reset: Int?
        for parameter in parts.dropFirst() {
            let text = trim(parameter)
            guard let equals = text.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let key = trim(text[text.startIndex..<equals])
            let number = nonNegativeInteger(trim(text[(equals + 1)...]))
            if key.elementsEqual("r".utf8) { remaining = number }
            if key.elementsEqual("t".utf8) { reset = number }
        }
        guard let remaining, let reset, remaining <= maxRemaining, reset <= maxResetSeconds else { return nil }
        return RateLimitHeader(policy: name, remaining: remaining, resetSeconds: reset)
    }

    /// `"default"` (a structured-field string) or a bare token; anything else is no name.
    private static func policyName(_ bytes: ArraySlice<UInt8>) -> String? {
        guard let first = bytes.first else { return nil }
        if first == UInt8(ascii: "\"") {
            guard bytes.count >= 2, bytes.last == UInt8(ascii: "\"") else { return nil }
            let inner = bytes.dropFirst().dropLast()
            guard !inner.contains(UInt8(ascii: "\"")), !inner.contains(UInt8(ascii: "\\")) else { return nil }
            return String(decoding: inner, as: UTF8.self)
        }
        guard bytes.allSatisfy({ isTokenByte($0) }) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
            || byte == UInt8(ascii: "*")
    }

    /// 1 to 9 decimal digits and nothing else: larger numbers are beyond every bound checked above.
    private static func nonNegativeInteger(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 9 else { return nil }
        var value = 0
        for byte in bytes {
            guard (0x30...0x39).contains(byte) else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }

    private static func trim(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, first == 0x20 || first == 0x09 { slice = slice.dropFirst() }
        while let last = slice.last, last == 0x20 || last == 0x09 { slice = slice.dropLast() }
        return slice
    }

    private static func split(
        _ bytes: ArraySlice<UInt8>, on separator: UInt8, respectingQuotes: Bool
    )
        -> [ArraySlice<UInt8>]
    {
        var parts: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        var quoted = false
        for index in bytes.indices {
            let byte = bytes[index]
            if respectingQuotes && byte == UInt8(ascii: "\"") { quoted.toggle() }
            if byte == separator && !quoted {
                parts.append(bytes[start..<index])
                start = index + 1
            }
        }
        parts.append(bytes[start..<bytes.endIndex])
        return parts
    }

    private static func split(_ bytes: [UInt8], on separator: UInt8, respectingQuotes: Bool) -> [ArraySlice<UInt8>] {
        split(bytes[...], on: separator, respectingQuotes: respectingQuotes)
    }
}
