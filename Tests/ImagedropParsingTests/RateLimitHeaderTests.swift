import ImagedropParsing
import Testing

@Suite("Ratelimit header")
struct RateLimitHeaderTests {
    @Test("Cloudflare's forms: quoted or bare policy, spaces, several members with \"default\" preferred")
    func forms() {
        #expect(
            RateLimitHeader.parse(#""default";r=50;t=30"#)
                == RateLimitHeader(policy: "default", remaining: 50, resetSeconds: 30))
        #expect(
            RateLimitHeader.parse("default;r=0;t=299")
                == RateLimitHeader(policy: "default", remaining: 0, resetSeconds: 299))
        #expect(
            RateLimitHeader.parse(#"  "default" ; r=5 ; t=1 "#)
                == RateLimitHeader(policy: "default", remaining: 5, resetSeconds: 1))
        #expect(RateLimitHeader.parse(#""burst";r=10;t=5, "default";r=1199;t=300"#)?.remaining == 1199)
        #expect(RateLimitHeader.parse(#""burst";r=10;t=5"#)?.policy == "burst")
    }

    @Test("absurd or malformed values are no hint: negative, huge, hex, missing r or t, unclosed quotes, over 4 KiB")
    func garbage() {
        for text in [
            #""default";r=-1;t=30"#, #""default";r=50;t=86401"#, #""default";r=99999999999999999999;t=1"#,
            #""default";r=0x10;t=1"#, #""default";t=30"#, #""default";r=5"#, #""default;r=5;t=1"#, "",
            ";;;", "r=1;t=1", #""de"fault";r=1;t=1"#, #""default";r=1;t=1"# + String(repeating: " ", count: 5000),
        ] {
            #expect(RateLimitHeader.parse(text) == nil, "\(text.prefix(60))")
        }
    }
}

@Suite("Reply header lines")
struct ReplyHeaderLineTests {
    @Test("status lines reset, fields are lowercased and trimmed, lines without a name are nothing")
    func lines() {
        #expect(ReplyHeaderLine.parse(Array("HTTP/1.1 100 Continue\r\n".utf8)) == .statusLine)
        #expect(ReplyHeaderLine.parse(Array("Retry-After:\t 3 \r\n".utf8)) == .field(name: "retry-after", value: "3"))
        #expect(ReplyHeaderLine.parse(Array("X-Empty:\r\n".utf8)) == .field(name: "x-empty", value: ""))
        #expect(ReplyHeaderLine.parse(Array(": no name\r\n".utf8)) == .other)
        #expect(ReplyHeaderLine.parse(Array("  folded continuation\r\n".utf8)) == .other)
        #expect(ReplyHeaderLine.parse(Array("bad name: x\r\n".utf8)) == .other)
        #expect(ReplyHeaderLine.parse(Array("\r\n".utf8)) == .other)
        #expect(ReplyHeaderLine.parse([]) == .other)
    }
}
