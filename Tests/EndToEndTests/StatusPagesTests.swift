import Foundation
import Glibc
import ImagedropDaemon
import ImagedropParsing
import ImagedropStore
import Testing

/// Issue 22 item 12 against a running daemon: the per-job pages, the search, the second page of the lists, and
/// the page in headless Chromium at desktop and phone width (no sideways scroll at 390 px).
@Suite("Status pages", .serialized)
struct StatusPagesTests {
    /// A daemon with 52 done uploads (two pages), one failed file whose name needs escaping, and long paths.
    static func fixture() throws -> DaemonFixture {
        let fixture = try DaemonFixture(
            extraConfig: """
                [http]
                listen = "127.0.0.1:0"
                """)
        try fixture.start()
        let deep = "customers/acme-corporation-international/2026-12/product-photography/spring-catalogue-final/"
        for index in 0..<50 { try fixture.drop(deep + "p\(index).png", seed: UInt64(52_000 + index)) }
        try fixture.drop(
            "a-very-long-file-name-with-no-slash-at-all-that-must-still-wrap-on-a-phone-0123456789abcdef.png",
            seed: 52_100)
        try fixture.drop("needle_100%.png", seed: 52_101)
        try fixture.drop(#"scan <1> & "proof".png"#, bytes: Array("not an image".utf8))
        #expect(fixture.waitForFinished(count: 53, seconds: 120))
        return fixture
    }

    @Test("GET /jobs/{id} for a done and a failed job, 404 for an unknown one; ?q= finds one; ?page=2 has the rest")
    func pagesOverHTTP() throws {
        let fixture = try Self.fixture()
        let base = "http://" + (try HTTPEndpointTests.address(fixture))
        let jobs = try fixture.jobs()
        let done = try #require(jobs.first { $0.path.display.hasSuffix("needle_100%.png") })
        let failed = try #require(jobs.first { $0.state == .failed })

        let donePage = try HTTPEndpointTests.curl(base + "/jobs/\(done.id)")
        #expect(donePage.status == 200 && donePage.headers.lowercased().contains("content-type: text/html"))
        #expect(donePage.headers.contains("Content-Security-Policy") && !donePage.body.contains("<script"))
        let imageID = try #require(done.imageID)
        let sha256 = try #require(done.sha256)
        #expect(donePage.body.contains("<dd>\(imageID)</dd>") && donePage.body.contains(sha256))
        #expect(donePage.body.contains(StatusPage.wrappedPath(done.path.display)))
        let failedPage = try HTTPEndpointTests.curl(base + "/jobs/\(failed.id)")
        #expect(failedPage.status == 200 && failedPage.body.contains("scan &lt;1&gt; &amp; &quot;proof&quot;.png"))
        #expect(failedPage.body.contains("<dt>last error</dt>") && !failedPage.body.contains("<1>"))
        #expect(try HTTPEndpointTests.curl(base + "/jobs/99999999").status == 404)
        for hostile in ["/jobs/-1", "/jobs/99999999999999999999", "/jobs/1/x"] {
            #expect(try HTTPEndpointTests.curl(base + hostile).status == 404, "\(hostile)")
        }

        let found = try HTTPEndpointTests.curl(base + "/?q=" + PageQuery.formEncoded("_100%"))
        #expect(found.status == 200 && found.body.components(separatedBy: "<li class=\"upload\"").count - 1 == 1)
        #expect(found.body.contains("href=\"/jobs/\(done.id)\""))
        let page1 = try HTTPEndpointTests.curl(base + "/")
        #expect(page1.body.components(separatedBy: "<li class=\"upload\"").count - 1 == 50)
        #expect(page1.body.contains("<a rel=\"next\" href=\"/?page=2\">"))
        let page2 = try HTTPEndpointTests.curl(base + "/?page=2")
        #expect(page2.status == 200 && page2.body.components(separatedBy: "<li class=\"upload\"").count - 1 == 2)
        #expect(page2.body.contains("<a rel=\"prev\" href=\"/\">") && !page2.body.contains("rel=\"next\""))
        #expect(fixture.stop() == 0)
    }

    /// Writes the page's HTML beside a harness that frames it `width` px wide, so Chromium lays it out at exactly
    /// that width (a headless window is never narrower than 500 px) and the harness's own script can measure it
    /// (the served page has no script, and its CSP forbids both scripts and framing). Returns the harness's URL.
    static func harness(_ html: String, width: Int, directory: String) throws -> String {
        try html.write(toFile: directory + "/page.html", atomically: true, encoding: .utf8)
        let harness = """
            <!doctype html><html><body style="margin:0"><iframe id="f" src="page.html" \
            style="width:\(width)px;height:900px;border:0;display:block"></iframe>
            <script>onload = () => { document.body.setAttribute("data-measure",
              f.contentDocument.documentElement.scrollWidth + "x" + f.contentWindow.innerWidth) }</script></body></html>
            """
        try harness.write(toFile: directory + "/harness-\(width).html", atomically: true, encoding: .utf8)
        return "file://" + directory + "/harness-\(width).html"
    }

    /// The framed page's document width and viewport width, as Chromium laid it out.
    static func measure(_ html: String, width: Int, directory: String) throws -> (scrollWidth: Int, innerWidth: Int) {
        let url = try harness(html, width: width, directory: directory)
        let (status, dom, err) = try HTTPEndpointTests.chromium(
            [
                "--allow-file-access-from-files", "--window-size=\(max(width, 500)),900",
                "--virtual-time-budget=3000", "--dump-dom", url,
            ], profile: "-pages")
        try #require(status == 0, "chromium: \(err)")
        let range = try #require(
            dom.range(of: #"data-measure="\d+x\d+""#, options: .regularExpression), "\(dom.suffix(300))")
        let numbers = dom[range].dropFirst(#"data-measure=""#.count).dropLast().split(separator: "x").compactMap {
            Int($0)
        }
        return (numbers[0], numbers[1])
    }

    @Test(
        "in headless Chromium at 1280 and 390 px: nothing wider than the viewport; screenshots kept",
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: HTTPEndpointTests.chromium),
            "Debian's chromium is not installed"))
    func phoneWidth() throws {
        let fixture = try Self.fixture()
        let base = "http://" + (try HTTPEndpointTests.address(fixture))
        let failed = try #require(try fixture.jobs().first { $0.state == .failed })
        let done = try #require(try fixture.jobs().first { $0.state == .done })
        let artifacts = DaemonFixture.packageRoot + "/.build/test-artifacts"
        try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)
        for target in ["/", "/jobs/\(failed.id)", "/jobs/\(done.id)"] {
            let html = try HTTPEndpointTests.curl(base + target).body
            for width in [1280, 390] {
                let (scrollWidth, innerWidth) = try Self.measure(html, width: width, directory: fixture.directory)
                #expect(
                    innerWidth == width && scrollWidth <= innerWidth,
                    "\(target) at \(width): \(scrollWidth) > \(innerWidth)")
            }
        }
        // At 1280 the page itself; at 390 through the harness, cut to the frame's width (a folder each: one page.html).
        try FileManager.default.createDirectory(atPath: fixture.directory + "/job", withIntermediateDirectories: true)
        let phone = try Self.harness(
            try HTTPEndpointTests.curl(base + "/").body, width: 390, directory: fixture.directory)
        let jobAtPhone = try Self.harness(
            try HTTPEndpointTests.curl(base + "/jobs/\(failed.id)").body, width: 390,
            directory: fixture.directory + "/job")
        for (width, name, url) in [
            (1280, "status-page-1280.png", base + "/"), (390, "status-page-390.png", phone),
            (390, "job-page-390.png", jobAtPhone),
        ] {
            let shot = artifacts + "/" + name
            try? FileManager.default.removeItem(atPath: shot)
            let (status, _, err) = try HTTPEndpointTests.chromium(
                [
                    "--allow-file-access-from-files", "--screenshot=" + shot,
                    "--window-size=\(width),900", "--hide-scrollbars", url,
                ],
                profile: "-pages")
            #expect(status == 0, "chromium screenshot: \(err)")
            let png = try #require(FileManager.default.contents(atPath: shot))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
            print("[http] screenshot \(shot) (\(png.count) bytes)")
        }
        #expect(fixture.stop() == 0)
    }
}
