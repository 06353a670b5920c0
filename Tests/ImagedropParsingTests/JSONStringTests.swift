import ImagedropSupport
import Testing

/// JSONString escapes by byte runs (issue 25: the scalar-at-a-time loop was most of the per-upload metadata's
/// and log line's cost). Its output is in every log line, metadata field, export row and webhook body, so it
/// is held to the scalar-at-a-time escaping it replaced, over every kind of character.
@Suite("JSON string escaping")
struct JSONStringTests {
    /// The escaping as it was written before, one scalar at a time: the oracle.
    static func reference(_ text: String) -> String {
        var out = "\""
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
        return out + "\""
    }

    @Test("fixed cases: nothing to escape, only escapes, escapes at either end, every control character")
    func fixedCases() {
        let controls = String(String.UnicodeScalarView((0..<0x20).compactMap(Unicode.Scalar.init) + ["\u{7F}"]))
        let cases = [
            "", "plain", "/srv/in/a b/ç.png", "\"", "\\", "\"\"", "a\"", "\"a", "a\\b\"c\nd\re\tf", controls,
            "é 画像 🎉 e\u{301}", "\u{0}", "tail\u{7F}", "\u{1b}[31mred", String(repeating: "x\"", count: 300),
        ]
        for text in cases { #expect(JSONString.quoted(text) == Self.reference(text), "\(Array(text.utf8))") }
    }

    @Test("random strings of quotes, backslashes, controls, DEL, two-, three- and four-byte characters")
    func randomStrings() {
        let alphabet: [Unicode.Scalar] = [
            "a", "Z", "0", " ", "/", "\"", "\\", "\n", "\r", "\t", "\u{0}", "\u{1}", "\u{1f}", "\u{7f}", "\u{80}",
            "é", "ß", "\u{301}", "画", "\u{FFFD}", "\u{FEFF}", "😀", "\u{10FFFF}",
        ]
        var generator = SplitMix64(seed: 25)  // the same strings every run: a failure names one that reproduces
        for _ in 0..<2_000 {
            let length = Int.random(in: 0..<40, using: &generator)
            var scalars = String.UnicodeScalarView()
            for _ in 0..<length { scalars.append(alphabet.randomElement(using: &generator)!) }
            let text = String(scalars)
            #expect(JSONString.quoted(text) == Self.reference(text), "\(Array(text.utf8))")
            var appended = "prefix:"
            JSONString.append(text, to: &appended)
            #expect(appended == "prefix:" + Self.reference(text))
        }
    }
}
