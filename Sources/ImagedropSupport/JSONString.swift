/// JSON string literals written by hand: for the streaming export (a Foundation object per row cost ~65 µs,
/// this ~5 µs), log lines (stable key order, no encoder per event) and the emulator's replies. The same
/// escaping also makes a logfmt quoted value: control characters and DEL become `\uXXXX`, so one event is
/// always one line.
package enum JSONString {
    package static func quoted(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count + 2)
        append(text, to: &out)
        return out
    }

    package static func optional(_ text: String?) -> String { text.map(quoted) ?? "null" }

    package static func append(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
