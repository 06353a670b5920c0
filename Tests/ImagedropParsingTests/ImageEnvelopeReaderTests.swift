import Testing

@testable import ImagedropParsing

/// Issue 25: the upload reply read without JSONDecoder — the same answer as JSONDecoder's wherever it answers,
/// and an answer for the replies the API and the emulator really send.
@Suite("Image envelope reader")
struct ImageEnvelopeReaderTests {
    /// Replies as Cloudflare documents them and as the emulator writes them: read directly.
    static let answered: [String] = [
        #"{"result":{"id":"107b9558-dd06-4bbd-5fef-9c2c16bb7900","filename":"logo.png","uploaded":"2022-01-31T16:39:28.458Z","requireSignedURLs":true,"variants":["https://imagedelivery.net/Vi7wi5KSItxGFsWRG2Us6Q/107b9558-dd06-4bbd-5fef-9c2c16bb7900/thumbnail","https://imagedelivery.net/Vi7wi5KSItxGFsWRG2Us6Q/107b9558-dd06-4bbd-5fef-9c2c16bb7900/hero"],"meta":{"key":"value"}},"success":true,"errors":[],"messages":[]}"#,
        #"{"result":null,"success":false,"errors":[{"code":5409,"message":"Resource already exists"}],"messages":[]}"#,
        #"{"success":false,"errors":[{"code":5400,"message":"Bad request","error_chain":[{"code":5455,"message":"Uploaded image must have image/jpeg, image/png, image/webp, image/gif or image/svg+xml content-type"}]}],"messages":[],"result":null}"#,
        """
        {
          "success": true, "errors": [], "messages": [{"code": 1, "message": "ok", "extra": [1, -2.5, 0, true, null, {"n": {}}]}],
          "result": {"id": "ab/c d", "variants": [], "meta": {"sha256": "9ad3", "imagedrop_job": "k1", "source_path": "in/a \\"b\\".png", "w": 12.75}}
        }
        """,
        #"{"success":true,"errors":null,"result":{"id":"x","filename":null,"uploaded":null,"variants":null,"requireSignedURLs":false,"meta":null}}"#,
        #"{"success":null,"result":{"id":"\/slash\\back\ttab\nline"},"errors":[{"code":-7,"message":null,"error_chain":null}]}"#,
        #"{}"#,
        #"{"result":{"id":"é 漢字 🙂"}}"#,
        #"{"errors":[{"code":-999999999999999999},{"code":0}]}"#,
        // A key twice where nobody reads it: JSONDecoder keeps reading, so does this.
        #"{"success":true,"x":{"a":1,"a":[2]},"result":{"id":"x","y":{"b":null,"b":"c"}}}"#,
    ]

    /// Left to JSONDecoder: escapes and numbers it may read otherwise, duplicate keys, other types, broken JSON.
    static let declined: [String] = [
        #"{"success":true,"result":{"id":"\u0041"}}"#,
        #"{"succ\u0065ss":true}"#,
        #"{"success":true,"success":false}"#,
        #"{"success":"true"}"#,
        #"{"errors":[{"code":5409.0}]}"#,
        #"{"errors":[{"code":1e3}]}"#,
        #"{"errors":[{"code":-0}]}"#,
        #"{"errors":[{"code":"5409"}]}"#,
        #"{"errors":[{"code":1234567890123456789}]}"#,
        #"{"errors":[{"code":-99999999999999999999999}]}"#,
        #"{"errors":{"code":1}}"#,
        #"{"result":{"filename":"no id"}}"#,
        #"{"result":[1]}"#,
        #"{"result":{"id":"x","variants":[1]}}"#,
        #"{"result":{"id":"x","meta":{"sha256":7}}}"#,
        #"{"other":1e400}"#,
        #"{"other":01}"#,
        #"{"other":1.}"#,
        #"{"other":12345678901234567}"#,
        #"[{"success":true}]"#,
        #"{"success":true} x"#,
        #"{"success":true,}"#,
        #"{"success":tru}"#,
        "{\"a\":\"tab\tinside\"}",
        #""#,
        String(repeating: #"{"x":"#, count: 40) + "1" + String(repeating: "}", count: 40),
    ]

    @Test("documented and emulated replies are read directly, each exactly as JSONDecoder reads it")
    func answeredAsJSONDecoder() throws {
        for text in Self.answered {
            let bytes = Array(text.utf8)
            let direct = try #require(ImageEnvelopeReader.read(bytes), "declined: \(text)")
            #expect(direct == EnvelopeDecoder.decodeWithJSONDecoder(ImageRecord.self, from: bytes), "\(text)")
        }
        let first = try #require(ImageEnvelopeReader.read(Array(Self.answered[0].utf8)))
        #expect(first.success == true && first.errors == [])
        #expect(first.result?.id == "107b9558-dd06-4bbd-5fef-9c2c16bb7900")
        #expect(first.result?.variants?.count == 2 && first.result?.requireSignedURLs == true)
        #expect(first.result?.metaSHA256 == nil)
        let chained = try #require(ImageEnvelopeReader.read(Array(Self.answered[2].utf8)))
        #expect(chained.errors?.first?.errorChain?.first?.code == 5455)
    }

    @Test("an error code of 18 digits is read; from 19 on it is left to JSONDecoder, never multiplied past Int")
    func longCodes() throws {
        let eighteen = try #require(ImageEnvelopeReader.read(Array(#"{"errors":[{"code":-999999999999999999}]}"#.utf8)))
        #expect(eighteen.errors?.first?.code == -999_999_999_999_999_999)
        #expect(ImageEnvelopeReader.read(Array(#"{"errors":[{"code":9999999999999999999}]}"#.utf8)) == nil)
    }

    @Test("what it leaves to JSONDecoder, the decoder still answers as JSONDecoder does")
    func declinedGoToJSONDecoder() {
        for text in Self.declined {
            let bytes = Array(text.utf8)
            #expect(ImageEnvelopeReader.read(bytes) == nil, "answered: \(text)")
            #expect(
                EnvelopeDecoder.decode(ImageRecord.self, from: bytes)
                    == EnvelopeDecoder.decodeWithJSONDecoder(ImageRecord.self, from: bytes), "\(text)")
        }
        #expect(ImageEnvelopeReader.read([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D]) == nil, "not UTF-8")
    }
}
