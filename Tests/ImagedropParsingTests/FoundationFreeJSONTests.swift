import Foundation
import ImagedropParsing
import ImagedropSupport
import Testing

/// JSONWriter, JSONReader and the text helpers replace swift-corelibs-foundation in the daemon (issue 25: its
/// link pulled ICU and 40 MB into the binary). The output of `show`, `export`, `status --json`, sidecars and
/// webhook bodies is a contract byte for byte, so each is held to what Foundation itself gives here.
@Suite("Foundation-free JSON and text")
struct FoundationFreeJSONTests {
    static var samples: [[String: Any]] {
        [
            [
                "id": 17, "path": "/srv/in/a b/ç.png", "path_raw_hex": NSNull(), "state": "done", "attempts": 0,
                "variants": ["https://imagedelivery.net/h/x/public", "b"], "size": Int64(51_200), "dismissed": false,
                "rate": 0.25, "whole": 3.0, "big": 1e21, "negative": -12,
                "nested": ["b": ["c": true], "a": [] as [Any]],
                "empty": [String: Any](), "text": "quote \" back \\ nl \n tab \t nul \u{0} esc \u{1b} del \u{7f} é 🎉",
            ],
            [
                "key10": 1, "key9": 2, "Key1": 3, "key_b": 4, "keyA": 5, "key-c": 6, "key.d": 7, "key e": 8, "keyé": 9,
                "key$": 10, "a": [1, 2.5, "x", NSNull(), ["z": 1, "y": 2]] as [Any],
            ],
            [:],
        ]
    }

    /// The same graph with JSONNull where Foundation has NSNull.
    static func native(_ value: Any) -> Any {
        switch value {
        case is NSNull: JSONNull()
        case let dictionary as [String: Any]: dictionary.mapValues(native)
        case let array as [Any]: array.map(native)
        default: value
        }
    }

    @Test("JSONWriter writes what JSONSerialization wrote, compact and pretty, slashes escaped or not")
    func writerMatchesFoundation() throws {
        let variants: [(JSONSerialization.WritingOptions, JSONWriter.Options)] = [
            ([.sortedKeys, .withoutEscapingSlashes], [.sortedKeys]),
            ([.sortedKeys, .prettyPrinted, .withoutEscapingSlashes], [.sortedKeys, .prettyPrinted]),
            ([.sortedKeys], [.sortedKeys, .escapingSlashes]),
        ]
        for sample in Self.samples {
            for (foundation, ours) in variants {
                let expected = String(
                    decoding: try JSONSerialization.data(withJSONObject: sample, options: foundation), as: UTF8.self)
                let written = try JSONWriter.string(Self.native(sample), options: ours)
                #expect(written == expected)
            }
        }
        #expect(try JSONWriter.string(["a", "b/c"], options: []) == #"["a","b/c"]"#)
        // The typed writer of a job's `variants` writes what the generic one does.
        for strings in [[], ["https://imagedelivery.net/h/id/public"], ["a\"b\\c", "\u{1}\n\t\u{7F}é😀", ""]] {
            #expect(JSONWriter.compactString(strings) == (try JSONWriter.string(strings, options: [])))
        }
        #expect(try JSONWriter.string(Optional<String>.none as Any) == "null")
        #expect(throws: JSONWriter.InvalidValue.self) { try JSONWriter.string(["x": Double.nan]) }
    }

    @Test("JSONReader reads what JSONSerialization read, into native values; not JSON is nil")
    func readerMatchesFoundation() throws {
        let text =
            #"{"n": 1, "d": 2.5, "t": true, "f": false, "z": null, "s": "a\/b\u00e9", "a": [1, {"k": []}], "e": {}}"#
        let ours = try #require(JSONReader.object(text))
        #expect(ours["n"] as? Int == 1)
        #expect(ours["d"] as? Double == 2.5)
        #expect(ours["t"] as? Bool == true && ours["f"] as? Bool == false)
        #expect(ours["z"] is JSONNull)
        #expect(ours["s"] as? String == "a/bé")
        let foundation = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
        #expect(
            try JSONWriter.string(ours, options: [.sortedKeys])
                == String(
                    decoding: try JSONSerialization.data(withJSONObject: foundation, options: options), as: UTF8.self))
        for bad in ["", "{", "{\"a\":}", "nope", String(repeating: "[", count: 10_000)] {
            #expect(JSONReader.value(Array(bad.utf8)) == nil, "\(bad.prefix(20))")
        }
    }

    @Test("Timestamp.iso8601 writes what Foundation's ISO-8601 formatter does, and reads back")
    func timestampsMatchFoundation() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        for millis: Int64 in [0, 1, 999, 1_000, 59_999, 951_782_400_000, 1_764_936_000_123, 4_102_444_799_999] {
            let text = Timestamp.iso8601(millis: millis)
            #expect(text == formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000)), "\(millis)")
            #expect(Timestamp.parseISO8601(text) == millis)
        }
    }

    @Test("trimmed, percent encoding and the case-insensitive search agree with Foundation")
    func textHelpersMatchFoundation() {
        for text in ["  a b \t", "\n x\r\n", "\u{00A0}\u{2003}y\u{3000}", "", "   ", "\u{85}z\u{2028}"] {
            #expect(
                text.trimmed(newlines: false) == text.trimmingCharacters(in: .whitespaces), "\(text.debugDescription)")
        }
        for text in ["  a b \t", "\n x\n", "\t\n", ""] {
            #expect(text.trimmed() == text.trimmingCharacters(in: .whitespacesAndNewlines), "\(text.debugDescription)")
        }
        // Where Foundation on Linux left whitespace in place (a final CRLF, which is one Character; Unicode
        // spaces), trimmed() removes it: a token file saved with CRLF line ends is read as the token.
        #expect("\n x\r\n".trimmed() == "x" && "\u{00A0}y\u{3000}\u{2028}".trimmed() == "y")
        var allowed = CharacterSet.alphanumerics.intersection(
            CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        allowed.insert(charactersIn: "-._~")
        for id in ["drop/a b.png", "ç/é?#%", "plain-id_1.~x", "a+b=c&d"] {
            #expect(
                PercentEncoding.encode(id, allowing: PercentEncoding.isUnreserved)
                    == id.addingPercentEncoding(withAllowedCharacters: allowed))
        }
        for encoded in ["a%20b", "%C3%A9", "%zz", "%4", "%FF", "plain", "%2F%2f"] {
            #expect(PercentEncoding.decode(encoded) == encoded.removingPercentEncoding, "\(encoded)")
        }
        let text = "auth: Bearer abc, then BEARER def"
        let found = text.asciiCaseInsensitiveRange(of: "bearer ")
        #expect(found == text.range(of: "bearer ", options: .caseInsensitive))
        #expect(text[found!.upperBound...].hasPrefix("abc"))
        #expect("no token".asciiCaseInsensitiveRange(of: "bearer ") == nil)
        // In a substring, at its very end, and with the needle longer than the text.
        let tail = text[text.index(text.startIndex, offsetBy: 10)...]
        #expect(tail.asciiCaseInsensitiveRange(of: "bearer ") == text.range(of: "BEARER "))
        #expect("x bearer".asciiCaseInsensitiveRange(of: "BEARER") == "x bearer".range(of: "bearer"))
        #expect("bea".asciiCaseInsensitiveRange(of: "bearer ") == nil && "".asciiCaseInsensitiveRange(of: "b") == nil)
    }
}
