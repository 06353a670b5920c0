/// Sizes, durations and rates as an operator reads them on a terminal or in a log line: short, with the
/// unit, and precise enough to compare (`2.4 MiB`, `842 ms`, `3.2 files/s`). Binary units, like the
/// 10 MiB upload limit they are compared with.
package enum HumanUnits {
    /// `512 B`, `12.3 KiB`, `2.4 MiB`, `1.07 GiB`.
    package static func bytes(_ count: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(max(0, count))
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(Int(value)) B" : "\(threeDigits(value)) \(units[unit])"
    }

    /// `42s`, `5m04s`, `2h03m07s`: short, and sortable by eye in a cron log.
    package static func duration(_ seconds: Int) -> String {
        let s = max(0, seconds)
        let hours = s / 3600
        let minutes = (s % 3600) / 60
        let rest = s % 60
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        if hours > 0 { return "\(hours)h\(two(minutes))m\(two(rest))s" }
        if minutes > 0 { return "\(minutes)m\(two(rest))s" }
        return "\(rest)s"
    }

    /// `842 ms` below a second, `1.34 s` below a minute, then `duration(_:)`'s `5m04s`.
    package static func duration(seconds: Double) -> String {
        let s = max(0, seconds)
        if s < 1 { return "\(Int((s * 1000).rounded())) ms" }
        if s < 60 { return "\(threeDigits(s)) s" }
        return duration(Int(s.rounded()))
    }

    /// `3.2 files/s`; below one a second, `12 files/min` (a slow trickle still reads as a number).
    package static func fileRate(perSecond rate: Double) -> String {
        if rate >= 1 { return "\(threeDigits(rate)) files/s" }
        let perMinute = rate * 60
        return perMinute >= 1 ? "\(threeDigits(perMinute)) files/min" : "\(threeDigits(perMinute * 60)) files/h"
    }

    /// `1.1 MiB/s`.
    package static func byteRate(perSecond rate: Double) -> String { bytes(Int(rate.rounded())) + "/s" }

    /// Three significant digits at most, no trailing zeros: `2.4`, `12.3`, `512`, `1.07`.
    package static func threeDigits(_ value: Double) -> String {
        let decimals = value >= 100 ? 0 : value >= 10 ? 1 : 2
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        if decimals == 0 || rounded == rounded.rounded() { return "\(Int(rounded))" }
        var text = "\(rounded)"
        // "2.40" cannot come out of Double's description, but "2.4000000000000004" can: cut to the decimals.
        if let dot = text.firstIndex(of: "."), text.distance(from: dot, to: text.endIndex) > decimals + 1 {
            text = String(text[...text.index(dot, offsetBy: decimals)])
        }
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
