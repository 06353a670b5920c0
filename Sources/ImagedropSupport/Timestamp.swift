import Glibc

/// Wall-clock time helpers. The job table and the API both use ISO-8601 UTC with milliseconds and a `Z`.
package enum Timestamp {
    /// Milliseconds since the Unix epoch (CLOCK_REALTIME).
    package static func nowMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// Monotonic nanoseconds, for measuring intervals (never goes backwards when the clock is set).
    package static func monotonicNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// `2026-11-29T12:00:00.123Z`
    package static func iso8601(millis: Int64) -> String {
        var seconds = time_t(millis / 1000)
        let ms = Int(millis % 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let year = Int(parts.tm_year) + 1900
        if (0...9999).contains(year), ms >= 0 {
            // Written into one buffer, no interim strings: every claim, write-back and log line stamps a time.
            return String(unsafeUninitializedCapacity: 24) { buffer in
                func put(_ value: Int, _ width: Int, at offset: Int, then separator: Unicode.Scalar) {
                    var value = value
                    for index in stride(from: offset + width - 1, through: offset, by: -1) {
                        buffer[index] = UInt8(48 + value % 10)
                        value /= 10
                    }
                    buffer[offset + width] = UInt8(separator.value)
                }
                put(year, 4, at: 0, then: "-")
                put(Int(parts.tm_mon) + 1, 2, at: 5, then: "-")
                put(Int(parts.tm_mday), 2, at: 8, then: "T")
                put(Int(parts.tm_hour), 2, at: 11, then: ":")
                put(Int(parts.tm_min), 2, at: 14, then: ":")
                put(Int(parts.tm_sec), 2, at: 17, then: ".")
                put(ms, 3, at: 20, then: "Z")
                return 24
            }
        }
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(ms), 3))Z"
    }

    package static func nowISO8601() -> String { iso8601(millis: nowMillis()) }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (the form this project writes and the API returns).
    package static func parseISO8601(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.last == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int32? {
            var value: Int32 = 0
            for index in range {
                guard index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 else { return nil }
                value = value * 10 + Int32(bytes[index] - 48)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19)
        else { return nil }
        let epoch = epochSeconds(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        var millis: Int64 = 0
        if bytes[19] == UInt8(ascii: ".") {
            var digits = 0
            var index = 20
            while index < bytes.count - 1, digits < 3, bytes[index] >= 48, bytes[index] <= 57 {
                millis = millis * 10 + Int64(bytes[index] - 48)
                digits += 1
                index += 1
            }
            while digits < 3 {
                millis *= 10
                digits += 1
            }
        }
        return epoch * 1000 + millis
    }

    /// Seconds since the Unix epoch of a UTC calendar time (fields as written: month 1–12). Out-of-range fields
    /// are normalised by timegm, so callers that must refuse them check first.
    package static func epochSeconds(
        year: Int32, month: Int32, day: Int32, hour: Int32, minute: Int32, second: Int32
    ) -> Int64 {
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        return Int64(timegm(&parts))
    }
}
