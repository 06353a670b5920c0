import Foundation
import ImagedropSupport

/// Reads the server's wait hint: `retry-after-ms` (milliseconds), else `retry-after` (seconds, or an
/// HTTP date). Returns milliseconds from now, or nil when there is no usable hint.
public enum RetryAfter {
    public static func parse(_ headers: [String: String], nowMillis: Int64 = Timestamp.nowMillis()) -> Int64? {
        if let text = headers["retry-after-ms"], let millis = Double(text.trimmingCharacters(in: .whitespaces)), millis >= 0 {
            return Int64(millis.rounded(.up))
        }
        guard let text = headers["retry-after"]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        if let seconds = Double(text), seconds >= 0 { return Int64((seconds * 1000).rounded(.up)) }
        if let date = httpDate(text) { return max(0, date - nowMillis) }
        return nil
    }

    /// IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func httpDate(_ text: String) -> Int64? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: text) else { return nil }
        return Int64(date.timeIntervalSince1970 * 1000)
    }
}
