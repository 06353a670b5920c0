import ImagedropSupport

/// Reads the server's wait hint: `retry-after-ms` (milliseconds), else `retry-after` (seconds, or an
/// HTTP date). Returns milliseconds from now, or nil when there is no usable hint.
///
/// The header is the server's (or any proxy's) text, so nothing here may trap: numbers are read digit by
/// digit with saturation, never through a Double-to-integer conversion, and every result lies in
/// 0...`ceilingMillis`. `inf`, `nan`, `1e400`, negative values, hex and other garbage are no hint at all.
/// The caller caps a hint at `backoff_max_ms` (RetryPolicy); the ceiling here only keeps the arithmetic
/// that follows (monotonic nanoseconds, epoch milliseconds) far from overflow.
package enum RetryAfter {
    /// Ten years: anything longer is the same absurd hint, and the policy's cap applies anyway.
    package static let ceilingMillis: Int64 = 10 * 365 * 86_400_000

    package static func parse(_ headers: [String: String], nowMillis: Int64 = Timestamp.nowMillis()) -> Int64? {
        if let text = headers["retry-after-ms"], let millis = decimal(text, scale: 1) { return millis }
        guard let text = headers["retry-after"]?.trimmed(newlines: false), !text.isEmpty else { return nil }
        if let millis = decimal(text, scale: 1000) { return millis }
        if let date = HTTPDate.epochMillis(text) { return min(max(0, date - nowMillis), ceilingMillis) }
        return nil
    }

    /// `DIGITS[.DIGITS]` times `scale` (1 for milliseconds, 1000 for seconds), rounded up, saturated at the
    /// ceiling. Anything else (sign, exponent, `inf`, `nan`, hex, spaces inside) is nil.
    package static func decimal(_ raw: String, scale: Int64) -> Int64? {
        let bytes = Array(raw.trimmed(newlines: false).utf8)
        guard let first = bytes.first, (48...57).contains(first) else { return nil }
        var whole: Int64 = 0
        var index = 0
        while index < bytes.count, (48...57).contains(bytes[index]) {
            whole = saturatingAppend(whole, digit: bytes[index])
            index += 1
        }
        var fraction: Int64 = 0  // thousandths of a unit: enough for milliseconds out of seconds
        var fractionDigits = 0
        var fractionNonZero = false
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count else { return nil }
            while index < bytes.count, (48...57).contains(bytes[index]) {
                if fractionDigits < 3 {
                    fraction = fraction * 10 + Int64(bytes[index] - 48)
                    fractionDigits += 1
                } else if bytes[index] != 48 {
                    fractionNonZero = true
                }
                index += 1
            }
            guard fractionDigits > 0 else { return nil }
            while fractionDigits < 3 {
                fraction *= 10
                fractionDigits += 1
            }
        }
        guard index == bytes.count else { return nil }
        let (scaled, overflow) = whole.multipliedReportingOverflow(by: scale)
        if overflow || scaled >= ceilingMillis { return ceilingMillis }
        // The fraction in `scale` units, rounded up: 0.0005 s is 1 ms, never 0.
        var extra = (fraction * scale + 999) / 1000
        if fractionNonZero, extra == fraction * scale / 1000 { extra += 1 }
        return min(scaled + extra, ceilingMillis)
    }

    private static func saturatingAppend(_ value: Int64, digit: UInt8) -> Int64 {
        let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
        let (sum, overflow2) = times.addingReportingOverflow(Int64(digit - 48))
        return overflow1 || overflow2 ? Int64.max : sum
    }
}
