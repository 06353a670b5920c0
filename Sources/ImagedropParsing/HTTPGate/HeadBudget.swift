/// How large a request head may be: 64 KiB for the target and the header lines together, and 64 lines. A browser
/// sends about 1 KiB in 15 lines; the limit leaves room for a proxy's additions and none for a flood.
///
/// The same bytes are counted as they arrive by SwiftNIO's decoder (configured from `decoderLimit`), which stops
/// reading a head at the limit: this count, run on the parsed head, is the exact rule (each line costs its name,
/// its value and the four bytes of `: ` and CRLF), so the answer is 431 either way.
package enum HeadBudget {
    package static let maxBytes = 64 << 10
    package static let maxLines = 64
    /// The decoder's own hard stop: names and values only (it does not see the separators), so it never cuts a
    /// head this count would allow.
    package static let decoderLimit = maxBytes

    /// Nil when the head fits; the refusal otherwise.
    package static func check(uri: String, headers: [(String, String)]) -> RequestGate.Refusal? {
        guard headers.count <= maxLines else { return tooLarge }
        var total = uri.utf8.count
        for (name, value) in headers {
            // Each term is bounded by the string's own length; the running total stops at the first excess.
            total += name.utf8.count + value.utf8.count + 4
            if total > maxBytes { return tooLarge }
        }
        return total > maxBytes ? tooLarge : nil
    }

    package static let tooLarge = RequestGate.Refusal(status: 431, message: "request header fields too large")
}
