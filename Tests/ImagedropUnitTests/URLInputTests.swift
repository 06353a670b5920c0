import ImagedropParsing
import ImagedropSystem
import ImagedropStore
import ImagedropPipeline
import ImagedropDaemon
import Testing

@Suite("URL inputs")
struct URLInputTests {
    @Test("http and https URLs with a host are accepted; others are refused with a reason")
    func validation() throws {
        #expect(throws: Never.self) { try URLInput("https://example.com/a.png") }
        #expect(throws: Never.self) { try URLInput("http://[::1]:8080/a.png") }
        for bad in ["ftp://example.com/a.png", "https:///a.png", "example.com/a.png", "https://exa mple.com/a.png",
                    "https://example.com/a\u{7}.png", "https://example.com/" + String(repeating: "a", count: 2048)] {
            #expect(throws: URLInputError.self, "\(bad)") { try URLInput(bad) }
        }
    }

    @Test("a password is shown as *** and scrubbed from messages about the URL")
    func redaction() throws {
        let url = try URLInput("https://bob:hunter2@example.com/a.png")
        #expect(url.redacted == "https://bob:***@example.com/a.png")
        #expect(url.scrub("could not fetch https://bob:hunter2@example.com/a.png (hunter2)") ==
                "could not fetch https://bob:***@example.com/a.png (***)")
        #expect(try URLInput("https://bob@example.com/a.png").redacted == "https://bob@example.com/a.png")
        #expect(URLInput.redact("https://example.com/a@b.png") == "https://example.com/a@b.png")
    }

    @Test("lists skip blank lines and comments and name the first bad line")
    func lists() throws {
        let urls = try URLList.parse("# header\n\nhttps://a.example/1.png\r\n  https://a.example/2.png  \n")
        #expect(urls.map(\.text) == ["https://a.example/1.png", "https://a.example/2.png"])
        #expect(throws: URLList.BadLine(line: 3, problem: "not an http or https URL")) {
            try URLList.parse("https://a.example/1.png\n# ok\nmailto:x@y\n")
        }
        #expect(URLList.isListName(Array("batch.URLS".utf8)))
        #expect(!URLList.isListName(Array(".urls".utf8)))
    }
}
