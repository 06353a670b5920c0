import ImagedropSupport
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

/// `UTF8Repair` answers valid text with the standard library's validator and repairs the rest a byte at a
/// time (issue 25: a path is shown several times per upload). Both ways must give what the repair alone gave.
@Suite("UTF-8 repair")
struct UTF8RepairTests {
    @Test("random byte strings, mostly valid, some cut or overlong: the same text as the byte-by-byte repair")
    func fastPathAgreesWithRepair() {
        let pieces: [[UInt8]] = [
            Array("a/b.png".utf8), Array("ç".utf8), Array("画".utf8), Array("😀".utf8), [0xC0, 0xAF], [0xED, 0xA0, 0x80],
            [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0x80], [0xFF], [0x00], [0x7F],
        ]
        var generator = SplitMix64(seed: 0x25)
        for _ in 0..<2_000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0..<12, using: &generator) {
                // Two thirds of the strings valid throughout, so the validator's yes is exercised as much as its no.
                let valid = Int.random(in: 0..<3, using: &generator) > 0
                bytes += pieces[Int.random(in: 0..<(valid ? 4 : pieces.count), using: &generator)]
            }
            let repaired = UTF8Repair.replacingEachInvalidByte(bytes)
            #expect(repaired == UTF8Repair.repairingEachByte(bytes), "\(bytes)")
            if String(validating: bytes, as: UTF8.self) != nil { #expect(Array(repaired.utf8) == bytes) }
        }
    }
}
