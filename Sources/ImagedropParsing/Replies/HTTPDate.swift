import ImagedropSupport

/// An HTTP date in its one current form, IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110 §5.6.7), read
/// by hand: a server or proxy writes it, and DateFormatter (ICU) was the slowest thing the Retry-After fuzz
/// target ran — a few hundred parses a second — besides being lenient in ways nobody specified. The obsolete
/// RFC 850 and asctime forms are no date here (no hint: the policy's own backoff applies).
package enum HTTPDate {
    private static let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].map { Array($0.utf8) }
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        .map { Array($0.utf8) }

    /// Milliseconds since the Unix epoch, or nil when `text` is not an IMF-fixdate of a real day and time.
    package static func epochMillis(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        // "Sun, 06 Nov 1994 08:49:37 GMT" is exactly 29 bytes.
        guard bytes.count == 29, days.contains(Array(bytes[0..<3])), bytes[3] == UInt8(ascii: ","),
            bytes[4] == 0x20, bytes[7] == 0x20, bytes[11] == 0x20, bytes[16] == 0x20,
            bytes[19] == UInt8(ascii: ":"), bytes[22] == UInt8(ascii: ":"), bytes[25] == 0x20,
            bytes[26...].elementsEqual("GMT".utf8),
            let day = number(bytes[5..<7]), let monthIndex = months.firstIndex(of: Array(bytes[8..<11])),
            let year = number(bytes[12..<16]), let hour = number(bytes[17..<19]),
            let minute = number(bytes[20..<22]), let second = number(bytes[23..<25])
        else { return nil }
        let month = monthIndex + 1
        guard day >= 1, day <= daysIn(month: month, year: year), hour <= 23, minute <= 59, second <= 60 else {
            return nil
        }
        let seconds = Timestamp.epochSeconds(
            year: Int32(year), month: Int32(month), day: Int32(day),
            hour: Int32(hour), minute: Int32(minute), second: Int32(second))
        return seconds * 1_000
    }

    private static func number(_ digits: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for byte in digits {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
