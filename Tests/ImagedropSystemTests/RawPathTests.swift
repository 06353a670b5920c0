import Testing

@testable import ImagedropSystem

@Suite("Raw paths")
struct RawPathTests {
    @Test("each byte that is not valid UTF-8 is shown as one U+FFFD")
    func replacementPerByte() {
        let path = RawPath(bytes: [0xE2, 0x82, 0x2E, 0x6A, 0xF0, 0x9F, 0x98, 0x41])
        #expect(path.display == "\u{FFFD}\u{FFFD}.j\u{FFFD}\u{FFFD}\u{FFFD}A")
        #expect(!path.isValidUTF8)
    }

    @Test("valid UTF-8 is kept as it is, including 4-byte sequences")
    func validText() {
        let text = "/srv/ünïcødé 画像 😀.png"
        #expect(RawPath(text).display == text)
        #expect(RawPath(text).isValidUTF8)
    }

    @Test("overlong encodings and surrogates are invalid bytes")
    func overlongAndSurrogates() {
        #expect(RawPath(bytes: [0xC0, 0xAF]).display == "\u{FFFD}\u{FFFD}")
        #expect(RawPath(bytes: [0xED, 0xA0, 0x80]).display == "\u{FFFD}\u{FFFD}\u{FFFD}")
    }

    @Test("relative paths and containment work on bytes")
    func relative() {
        let root = RawPath("/srv/in")
        #expect(RawPath("/srv/in/a/b.png").relative(to: root)?.display == "a/b.png")
        #expect(RawPath("/srv/inbox/b.png").relative(to: root) == nil)
        #expect(RawPath("/srv/in").isInside(root))
    }
}
