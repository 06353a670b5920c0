import Foundation
import ImagedropParsing
import ImagedropStoreTestSupport
import ImagedropTestSupport
import Testing

@testable import ImagedropDaemon
@testable import ImagedropStore
@testable import ImagedropSystem

/// Issue 22 item 12, the page an operator lives in: escaping, paths that wrap at `/`, paging links, the search
/// (a bound LIKE with `%` and `_` literal), and the per-job page, rendered from a real job table.
@Suite("Status page", .serialized)
struct StatusPageTests {
    static let now = Int64(1_700_000_000)

    /// Jobs with these names under `/drop/`, each done (or failed when `failed` says so), newest last.
    static func store(_ names: [String], failed: Set<String> = []) throws -> (StatusSite, JobStore, TemporaryStore) {
        let (site, services, _, temp) = try StatusSiteTests.site(actions: false)
        try services.store.enqueueInDrop(names)
        for job in try services.store.list(state: nil, updatedSince: nil, limit: 10_000).reversed() {
            let name = String(job.path.display.dropFirst("/drop/".count))
            if failed.contains(name) {
                try services.store.markFailed(
                    id: job.id, error: "not an image <b>&", code: 5455, sha256: nil, countAttempt: true,
                    afterAction: nil)
            } else {
                try services.store.markDone(
                    id: job.id, imageID: "img-\(job.id)",
                    variants: ["https://imagedelivery.net/h/img-\(job.id)/public"],
                    sha256: String(repeating: "a", count: 64), countAttempt: true, afterAction: nil)
            }
        }
        return (site, services.store, temp)
    }

    static func body(_ reply: HTTPReply) -> String { String(decoding: reply.body, as: UTF8.self) }

    @Test("a path is escaped, with a break opportunity after each of its own slashes and nowhere else")
    func wrappedPath() {
        #expect(
            StatusPage.wrappedPath(#"/srv/a<b>&"q'/c.jpg"#) == "/<wbr>srv/<wbr>a&lt;b&gt;&amp;&quot;q&#39;/<wbr>c.jpg")
        #expect(StatusPage.wrappedPath("no-slash") == "no-slash")
        #expect(StatusPage.wrappedPath("</wbr>") == "&lt;/<wbr>wbr&gt;")
    }

    @Test(
        "hostile and non-UTF-8 paths reach the page escaped, as U+FFFD, and every row links to its job and shows its time"
    )
    func hostilePaths() throws {
        let (site, store, temp) = try Self.store([#"<img src=x>&"'.png"#, "bad.png"], failed: ["bad.png"])
        defer { withExtendedLifetime(temp) {} }
        try store.enqueue([
            FileCandidate(
                path: RawPath(bytes: Array("/drop/caf".utf8) + [0xE9] + Array(".png".utf8)), root: nil,
                size: 1, mtimeNanos: 1)
        ])
        let odd = try #require(try store.list(state: .queued, updatedSince: nil, limit: 1).first)
        try store.markDone(id: odd.id, imageID: "odd", variants: [], sha256: nil, countAttempt: true, afterAction: nil)
        let page = Self.body(site.page(nowSeconds: Self.now))
        let oddPage = Self.body(site.respond(to: .job(odd.id), nowSeconds: Self.now))
        #expect(
            oddPage.contains("caf\u{FFFD}.png")
                && oddPage.contains("<dt>path bytes (hex)</dt><dd>2f64726f702f636166e92e706e67</dd>"))
        #expect(!page.contains("<img src=x") && !page.contains("<b>&"))
        #expect(page.contains("/<wbr>drop/<wbr>&lt;img src=x&gt;&amp;&quot;&#39;.png"))
        #expect(page.contains("not an image &lt;b&gt;&amp;"))
        #expect(page.contains("/<wbr>drop/<wbr>caf\u{FFFD}.png"))
        // Every row: a link to /jobs/{id} and a <time>; failures come before the uploads.
        for job in try store.list(state: nil, updatedSince: nil, limit: 10) {
            #expect(page.contains("href=\"/jobs/\(job.id)\""))
        }
        #expect(
            page.components(separatedBy: "<li class=\"upload\"").dropFirst().allSatisfy {
                $0.contains("<time datetime=\"")
            })
        #expect(
            page.components(separatedBy: "<li class=\"failure\"").dropFirst().allSatisfy {
                $0.contains("<time datetime=\"")
            })
        let failures = try #require(page.range(of: "id=\"failures\""))
        let uploads = try #require(page.range(of: "id=\"recent\""))
        #expect(failures.lowerBound < uploads.lowerBound)
        // A done job with no web variant has the placeholder box alone: nothing that could load and break.
        #expect(page.contains("<span class=\"tbox\">no preview</span>"))
        #expect(
            page.contains(
                "<span class=\"tbox\">no preview<img class=\"thumb\" loading=\"lazy\" alt=\"\" src=\"https://"))
    }

    @Test("paging: 50 a page, next/prev links that keep the search (encoded, then escaped), none on a single page")
    func paging() throws {
        let names = (0..<120).map { "p\($0).png" }
        let (site, store, temp) = try Self.store(names)
        defer { withExtendedLifetime(temp) {} }
        let first = try store.uploads(limit: 50, offset: 0, pathContaining: nil)
        let third = try store.uploads(limit: 50, offset: 100, pathContaining: nil)
        #expect(first.jobs.count == 50 && first.hasMore && third.jobs.count == 20 && !third.hasMore)
        #expect(Set(first.jobs.map(\.id)).isDisjoint(with: third.jobs.map(\.id)))

        let page2 = Self.body(site.page(nowSeconds: Self.now, query: PageQuery(page: 2)))
        #expect(page2.components(separatedBy: "<li class=\"upload\"").count - 1 == 50)
        #expect(page2.contains("<a rel=\"prev\" href=\"/\">") && page2.contains("<a rel=\"next\" href=\"/?page=3\">"))
        #expect(page2.contains("<meta http-equiv=\"refresh\" content=\"10; url=/?page=2\">"))
        let page3 = Self.body(site.page(nowSeconds: Self.now, query: PageQuery(page: 3)))
        #expect(page3.contains("<a rel=\"prev\" href=\"/?page=2\">") && !page3.contains("rel=\"next\""))
        // Past the end: an empty list that leads back, not an error.
        let far = Self.body(site.page(nowSeconds: Self.now, query: PageQuery(target: "/?page=99999999999999999999")))
        #expect(far.contains("page 10000") && far.contains("rel=\"prev\"") && far.contains("none yet"))

        let searched = StatusPage.pager(PageQuery(page: 2, search: #"a b/&"<"#), hasMore: true, id: "x")
        #expect(searched.contains(#"href="/?q=a%20b%2F%26%22%3C">"#))
        #expect(searched.contains(#"href="/?page=3&amp;q=a%20b%2F%26%22%3C">"#))
        #expect(StatusPage.pager(PageQuery(), hasMore: false, id: "x").isEmpty)
    }

    @Test("the search is a substring of the path: % and _ are literal, quotes are data, the form shows it escaped")
    func search() throws {
        let (site, store, temp) = try Self.store([
            "100%.png", "100x.png", "a_b.png", "axb.png", #"back\slash.png"#, "o'neil.png",
            "Cat.png",
        ])
        defer { withExtendedLifetime(temp) {} }
        func found(_ text: String) throws -> [String] {
            try store.uploads(limit: 50, offset: 0, pathContaining: text).jobs.map {
                String($0.path.display.dropFirst(6))
            }.sorted()
        }
        #expect(try found("100%") == ["100%.png"])
        #expect(try found("a_b") == ["a_b.png"])
        #expect(try found(#"\s"#) == [#"back\slash.png"#])
        #expect(try found("o'neil") == ["o'neil.png"])
        #expect(try found("'; DROP TABLE jobs; --").isEmpty)
        #expect(try found("cat") == ["Cat.png"], "ASCII case does not matter")
        #expect(try store.list(state: nil, updatedSince: nil, limit: 100).count == 7)
        #expect(JobStore.likePattern(containing: #"1%_\"#) == #"%1\%\_\\%"#)

        let page = Self.body(site.page(nowSeconds: Self.now, query: PageQuery(target: "/?q=%22%3Cx%3E%25")))
        #expect(page.contains(#"value="&quot;&lt;x&gt;%""#) && page.contains("none matching"))
        let hit = Self.body(site.page(nowSeconds: Self.now, query: PageQuery(target: "/?q=a_b")))
        #expect(hit.components(separatedBy: "<li class=\"upload\"").count - 1 == 1 && hit.contains("a_b.png"))
    }

    @Test("the query: bounded page numbers, form decoding, a 200-character cap, junk ignored")
    func pageQuery() {
        let cases: [(String, PageQuery)] = [
            ("/", PageQuery()), ("/?page=2", PageQuery(page: 2)), ("/?page=-1", PageQuery()), ("/?page=0", PageQuery()),
            ("/?page=abc", PageQuery()), ("/?page=", PageQuery()),
            ("/?page=99999999999999999999", PageQuery(page: 10_000)),
            ("/?page=0002", PageQuery(page: 2)), ("/?q=a+b%2Fc", PageQuery(search: "a b/c")),
            ("/?q=%ZZ%", PageQuery(search: "%ZZ%")),
            ("/?q=%FF", PageQuery(search: "\u{FFFD}")), ("/?q=", PageQuery()),
            ("/?q=x#frag&page=3", PageQuery(search: "x")),
            ("/?done=retried-1&q=cat&page=4", PageQuery(page: 4, search: "cat")), ("/?q&page", PageQuery()),
        ]
        for (target, expected) in cases { #expect(PageQuery(target: target) == expected, "\(target)") }
        #expect(PageQuery(target: "/?q=" + String(repeating: "x", count: 300)).search?.count == 200)
        #expect(PageQuery(target: "/?q=" + String(repeating: "%C3%A9", count: 100_000)).search?.count == 200)
        // One character of a letter and 1,199 combining marks: cut to the byte cap at a character (nothing left),
        // and a mark-heavy search still reads back as itself from the link the page writes.
        #expect(PageQuery(target: "/?q=a" + String(repeating: "%CC%81", count: 1_199)).search == nil)
        let marks = PageQuery(target: "/?q=%FF" + String(repeating: "%CC%81", count: 300) + "b")
        #expect(marks.search.map { $0.utf8.count <= PageQuery.maxSearchBytes } == true)
        #expect(PageQuery(target: "/" + marks.query(page: 1)) == marks)
        let hostile = PageQuery(page: 7, search: "é&=+%/#?")
        #expect(PageQuery(target: "/" + hostile.query(page: 7)) == hostile)
    }

    @Test("GET /jobs/{id}: every field `show` prints, escaped; an unknown id is a 404 page")
    func jobPage() throws {
        let (site, store, temp) = try Self.store(["ok.png", #"<x>&.png"#], failed: [#"<x>&.png"#])
        defer { withExtendedLifetime(temp) {} }
        let jobs = try store.list(state: nil, updatedSince: nil, limit: 10)
        let done = try #require(jobs.first { $0.state == .done })
        let failed = try #require(jobs.first { $0.state == .failed })
        let reply = site.respond(to: .job(done.id), nowSeconds: Self.now)
        #expect(reply.status == 200 && reply.contentType.hasPrefix("text/html"))
        let page = Self.body(reply)
        for line in JobRendering.text(done).split(separator: "\n") {
            let label = line.prefix(12).trimmingCharacters(in: .whitespaces).dropLast()
            #expect(page.contains("<dt>\(label)</dt>"), "\(label)")
        }
        #expect(page.contains("<dd>img-\(done.id)</dd>") && page.contains(String(repeating: "a", count: 64)))
        #expect(page.contains("href=\"https://imagedelivery.net/h/img-\(done.id)/public\""))
        let failedPage = Self.body(site.respond(to: .job(failed.id), nowSeconds: Self.now))
        #expect(failedPage.contains("&lt;x&gt;&amp;.png") && failedPage.contains("not an image &lt;b&gt;&amp;"))
        #expect(failedPage.contains("<dt>last code</dt><dd>5455</dd>") && !failedPage.contains("<form"))
        // With actions on, a failed job's page has its retry button (and its CSRF token); a done job's has none.
        let (actions, services, _, actionsTemp) = try StatusSiteTests.site(actions: true)
        defer { withExtendedLifetime(actionsTemp) {} }
        try services.store.enqueue([FileCandidate.inDrop("r.png")])
        let claimed = try #require(try services.store.claim(leaseMillis: 60_000))
        try services.store.markFailed(
            id: claimed.id, error: "x", code: nil, sha256: nil, countAttempt: true, afterAction: nil)
        let retry = Self.body(actions.respond(to: .job(claimed.id), nowSeconds: Self.now))
        #expect(
            retry.contains(
                "<form method=\"post\" action=\"/jobs/\(claimed.id)/retry\"><input type=\"hidden\" name=\"csrf\""))
        let missing = site.respond(to: .job(987_654), nowSeconds: Self.now)
        #expect(missing.status == 404 && Self.body(missing).contains("no job 987654"))
    }

    @Test("routes: /jobs/{id} for GET only, 1 to 18 digits; hostile ids are 404")
    func jobRoute() {
        let proceed: [(String, String, StatusRoute)] = [
            ("GET", "/jobs/1", .job(1)), ("GET", "/jobs/000000000000000007", .job(7)),
            ("GET", "/jobs/999999999999999999", .job(999_999_999_999_999_999)), ("POST", "/jobs/3/retry", .retryJob(3)),
        ]
        for (method, path, route) in proceed {
            #expect(StatusRoute.resolve(method: method, path: path) == .proceed(route), "\(path)")
        }
        for path in [
            "/jobs/-1", "/jobs/99999999999999999999", "/jobs/1/x", "/jobs/", "/jobs", "/jobs/1/", "/jobs/+1",
            "/jobs/1.0",
            "/jobs/ 1", "/jobs/1%2F", "/jobs/١", "/jobs//retry", "/jobs/1/retry/x", "/jobs/0x10",
        ] {
            guard case .refuse(let refusal) = StatusRoute.resolve(method: "GET", path: path) else {
                Issue.record("\(path) was routed")
                continue
            }
            #expect(refusal.status == 404, "\(path)")
        }
        #expect(
            StatusRoute.resolve(method: "POST", path: "/jobs/1")
                == .refuse(.init(status: 405, message: "method not allowed")))
        #expect(StatusRoute.job(1).readsDatabase && !StatusRoute.job(1).isAction)
        let gate = RequestGate(
            policy: .init(
                hosts: HostRule(listenHost: "127.0.0.1", allowedHosts: []), actions: false,
                bearerToken: nil, bearerRequired: false, csrfSign: { _ in "" }))
        #expect(
            gate.decide(
                method: "GET", uri: "/jobs/5?page=2", headers: [("Host", "localhost")], body: nil,
                nowSeconds: Self.now) == .proceed(.job(5)))
    }
}
