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
        // Bytes, not scalars: every character that needs escaping is ASCII, no byte of a longer UTF-8 sequence
        // is below 0x80, and the runs between escapes are copied whole (a scalar at a time was most of the
        // per-upload metadata's and log line's cost: docs/benchmarks.md).
        var text = text
        let escaped = text.withUTF8 { bytes -> Bool in
            var runStart = 0
            for index in bytes.indices {
                let byte = bytes[index]
                guard byte < 0x20 || byte == 0x7F || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else {
                    continue
                }
                out += String(decoding: UnsafeBufferPointer(rebasing: bytes[runStart..<index]), as: UTF8.self)
                out += escape(byte)
                runStart = index + 1
            }
            guard runStart > 0 else { return false }
            out += String(decoding: UnsafeBufferPointer(rebasing: bytes[runStart...]), as: UTF8.self)
            return true
        }
        if !escaped { out += text }  // the common case: the string itself, no copy through bytes
        out += "\""
    }

    /// The byte a one-character escape stands for (`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`: the byte after the
    /// backslash), or nil for `\u` and anything that is not an escape. For the hand-written readers of JSON text.
    package static func unescaped(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): return byte
        case UInt8(ascii: "b"): return 0x08
        case UInt8(ascii: "f"): return 0x0C
        case UInt8(ascii: "n"): return 0x0A
        case UInt8(ascii: "r"): return 0x0D
        case UInt8(ascii: "t"): return 0x09
        default: return nil
        }
    }

    private static func escape(_ byte: UInt8) -> String {
        switch byte {
        case UInt8(ascii: "\""): return "\\\""
        case UInt8(ascii: "\\"): return "\\\\"
        case UInt8(ascii: "\n"): return "\\n"
        case UInt8(ascii: "\r"): return "\\r"
        case UInt8(ascii: "\t"): return "\\t"
        default:
            let hex = String(byte, radix: 16)
            return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        }
    }
}
