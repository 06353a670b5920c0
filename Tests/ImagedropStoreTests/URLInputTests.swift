import Foundation
import ImagedropParsing
import ImagedropStore
import Testing

@Suite("URL inputs")
struct URLInputTests {
    @Test("http and https URLs with a host are accepted; others are refused with a reason")
    func validation() throws {
        #expect(throws: Never.self) { try URLInput("https://example.com/a.png") }
        #expect(throws: Never.self) { try URLInput("http://[::1]:8080/a.png") }
        for bad in [
            "ftp://example.com/a.png", "https:///a.png", "example.com/a.png", "https://exa mple.com/a.png",
            "https://example.com/a\u{7}.png", "https://example.com/" + String(repeating: "a", count: 2048),
        ] {
            #expect(throws: URLInputError.self, "\(bad)") { try URLInput(bad) }
        }
    }

    @Test("a password is shown as *** and scrubbed from messages about the URL")
    func redaction() throws {
        let url = try URLInput("https://bob:hunter2@example.com/a.png")
        #expect(url.redacted == "https://bob:***@example.com/a.png")
        #expect(
            url.scrub("could not fetch https://bob:hunter2@example.com/a.png (hunter2)")
                == "could not fetch https://bob:***@example.com/a.png (***)")
        #expect(URLInput.redact("https://example.com/a@b.png") == "https://example.com/a@b.png")
    }

    @Test(
        "any user-info is hidden: a token alone becomes ***@, user:password keeps the user",
        arguments: [
            ("https://ghp_TOKEN@host/a.png", "https://***@host/a.png"),
            ("https://bob@example.com/a.png", "https://***@example.com/a.png"),
            ("https://user:pass@host/a.png", "https://user:***@host/a.png"),
            ("https://user:@host/a.png", "https://***@host/a.png"),  // an empty password: the user is the token
            ("https://ghp_TOKEN:x-oauth-basic@github.com/a.png", "https://***@github.com/a.png"),
            ("https://x-access-token:ghs_TOKEN@github.com/a.png", "https://x-access-token:***@github.com/a.png"),
            ("https://glpat-TOKEN:pw@host/a.png", "https://***@host/a.png"),  // a token's prefix in the user name
            ("https://a1B2c3D4e5F6g7H8i9J0k1L2m3:x@host/a.png", "https://***@host/a.png"),  // looks like a token
            ("https://deploy-bot:hunter2@host/a.png", "https://deploy-bot:***@host/a.png"),
            ("https://:pass@host/a.png", "https://:***@host/a.png"),
            ("https://@host/a.png", "https://***@host/a.png"),
            ("https://tok%3Aen@host/a.png", "https://***@host/a.png"),  // an encoded colon separates nothing
            ("https://us%40er:p%3Ass@host/a.png", "https://us%40er:***@host/a.png"),
            ("https://user:p@ss@host/a.png", "https://user:***@host/a.png"),  // the last @ ends the user-info
            ("https://host/a@b.png", "https://host/a@b.png"),  // @ in the path
            ("https://host/a.png?u=x:y@z", "https://host/a.png?u=x:y@z"),  // @ in the query
            ("https://host#x:y@z", "https://host#x:y@z"),  // @ in the fragment
            ("https://host:8443/a.png", "https://host:8443/a.png"),
            ("https://[::1]:8080/a.png", "https://[::1]:8080/a.png"),
            ("https://TOKEN@[2001:db8::1]:8080/a.png", "https://***@[2001:db8::1]:8080/a.png"),
            ("https://u:pw@[::1]/a.png", "https://u:***@[::1]/a.png"),
            ("HTTP://TOKEN@HOST", "HTTP://***@HOST"),
            ("https://TOKEN@host?q=1", "https://***@host?q=1"),
        ])
    func userInfoRedaction(url: String, expected: String) throws {
        #expect(URLInput.redact(url) == expected)
        let input = try URLInput(url)
        #expect(input.redacted == expected)
        #expect(input.text == url, "what is sent to Cloudflare to fetch keeps its credential")
    }

    @Test("the url-list fuzz target's redaction invariant holds for every user-info form and its committed corpus")
    func fuzzInvariant() throws {
        let forms = [
            "https://a@a.example/a.png", "https://a:@host/", "https://:@host", "https://@host", "https://a@b:c@host/x",
            "https://u:p@[::1]:1/a@b?c=d@e#f@g", "https://tok%3Aen@host", "http://x:y@h?q", "HTTPS://T@H",
        ]
        FuzzTarget.urlList.run(Array(forms.joined(separator: "\n").utf8))  // traps if redaction leaves a secret
        let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fuzz/corpus/url-list").path
        let files = (try? FileManager.default.contentsOfDirectory(atPath: corpus)) ?? []
        for name in files.sorted() {
            FuzzTarget.urlList.run(Array(try Data(contentsOf: URL(fileURLWithPath: corpus + "/" + name))))
        }
        #expect(!files.isEmpty, "the url-list corpus is committed at \(corpus)")
    }

    @Test("metadata gets the URL without any user-info; messages lose the token, the password and their decoded forms")
    func credentialsNeverLeave() throws {
        let token = try URLInput("https://ghp_s3cretTOKEN@host/a.png")
        #expect(token.withoutCredentials == "https://host/a.png")
        #expect(
            token.scrub("401 fetching https://ghp_s3cretTOKEN@host/a.png as ghp_s3cretTOKEN")
                == "401 fetching https://***@host/a.png as ***")
        let password = try URLInput("https://alice:p%40ss@[::1]:8080/a.png?x=1")
        #expect(password.withoutCredentials == "https://[::1]:8080/a.png?x=1")
        #expect(password.scrub("bad login alice:p@ss (p%40ss)") == "bad login alice:*** (***)")
        let forge = try URLInput("https://ghp_s3cret:x-oauth-basic@github.com/a.png")
        #expect(
            forge.scrub("401 for ghp_s3cret at https://ghp_s3cret:x-oauth-basic@github.com/a.png")
                == "401 for *** at https://***@github.com/a.png")
        #expect(try URLInput("https://host/a@b.png").withoutCredentials == "https://host/a@b.png")
        #expect(try URLInput("https://host/a.png").scrub("HTTP 404") == "HTTP 404")
        let metadata = try #require(
            ImageMetadata.build(
                userJSON: nil, sha256: nil, sourcePath: token.withoutCredentials,
                jobKey: nil, sourceKey: "source_url"))
        #expect(!metadata.contains("s3cret"), "\(metadata)")
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
