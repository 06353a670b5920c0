import Foundation
import ImagedropStore
import ImagedropSystem
import Testing

/// The page's retry buttons say what they did: the 303 carries the counts in its Location, the page shows them
/// once, and a crafted link shows nothing.
@Suite("Status page action results", .serialized)
struct StatusPageActionTests {
    @Test(
        "after POST /jobs/{id}/retry and POST /retry-failed the page says what happened; a crafted query shows nothing")
    func pageSaysWhatHappened() throws {
        let fixture = try DaemonFixture(
            extraConfig: """
                [http]
                listen = "127.0.0.1:0"
                actions = true
                """)
        try fixture.start()
        try fixture.drop("ok.png", seed: 11)
        for name in ["bad1.jpg", "bad2.jpg"] { try fixture.drop(name, bytes: Array("not an image \(name)".utf8)) }
        #expect(fixture.waitForFinished(count: 3))
        let base = "http://" + (try HTTPEndpointTests.address(fixture))
        let token = try Self.csrf(try HTTPEndpointTests.curl(base + "/").body)
        let bad1 = try #require(try fixture.store().latestJob(path: RawPath(fixture.inbox + "/bad1.jpg")))

        let one = try HTTPEndpointTests.curl(base + "/jobs/\(bad1.id)/retry", method: "POST", data: "csrf=\(token)")
        #expect(one.status == 303)
        let oneLocation = try Self.location(one)
        #expect(oneLocation == "/?done=retried-1&job=\(bad1.id)")
        let onePage = try HTTPEndpointTests.curl(base + oneLocation).body
        #expect(
            onePage.contains(#"<p class="notice" id="notice" role="status">job \#(bad1.id) queued again</p>"#),
            "\(onePage)")
        #expect(
            onePage.contains(#"<meta http-equiv="refresh" content="10; url=/">"#), "the page's refresh drops the notice"
        )
        #expect(fixture.waitForFinished(count: 3))

        try FileManager.default.removeItem(atPath: fixture.inbox + "/bad2.jpg")
        let all = try HTTPEndpointTests.curl(base + "/retry-failed", method: "POST", data: "csrf=\(token)")
        let allLocation = try Self.location(all)
        #expect(allLocation == "/?done=retried-1&gone=1")
        let allPage = try HTTPEndpointTests.curl(base + allLocation).body
        #expect(
            allPage.contains("1 failed jobs queued again; left as they are: 1 whose file is no longer there</p>"),
            "\(allPage)")

        for crafted in [
            "/?done=<script>alert(1)</script>", "/?done=retried-2&job=<b>x</b>", "/?done=Your%20account%20is%20locked",
        ] {
            let page = try HTTPEndpointTests.curl(base + crafted)
            #expect(page.status == 200)
            #expect(
                !page.body.contains("<script") && !page.body.contains("<b>x") && !page.body.contains("locked"),
                "\(crafted)")
        }
        #expect(
            try HTTPEndpointTests.curl(base + "/?done=retried-2&job=<b>x</b>").body.contains(
                ">2 failed jobs queued again</p>"),
            "a bad field is dropped, the numbers stay")
        #expect(!(try HTTPEndpointTests.curl(base + "/").body.contains("id=\"notice\"")))
        #expect(fixture.stop() == 0)
    }

    static func csrf(_ page: String) throws -> String {
        let range = try #require(page.range(of: #"name="csrf" value="[0-9a-f.]+""#, options: .regularExpression))
        return String(page[range].dropFirst(#"name="csrf" value=""#.count).dropLast())
    }

    static func location(_ reply: HTTPEndpointTests.Reply) throws -> String {
        let line = try #require(reply.headers.split(separator: "\r\n").first { $0.lowercased().hasPrefix("location:") })
        return line.dropFirst("location:".count).trimmingCharacters(in: .whitespaces)
    }
}
