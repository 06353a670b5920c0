import Foundation
import ImagedropParsing
import ImagedropStoreTestSupport
import ImagedropTestSupport
import Logging
import Testing

@testable import ImagedropDaemon
@testable import ImagedropPipeline
@testable import ImagedropStore
@testable import ImagedropSystem

/// The routes as functions, on a real job table: the states /healthz must tell apart, and the action guard.
@Suite("Status site", .serialized)
struct StatusSiteTests {
    static func site(actions: Bool) throws -> (StatusSite, GaugeSource, DatabaseHealth, TemporaryStore) {
        let temp = try TemporaryStore()
        let store = temp.store
        var config = Config()
        config.queue.database = temp.database
        config.http.actions = actions
        let shared = SharedConfig(config)
        let tokens = TokenProvider(source: TokenSource(config: config, environment: [:]))
        let logger = Logger(label: "test")
        let upload = JobProcessor.Dependencies.make(
            config, shared: shared, store: store, tokens: tokens, logger: logger)
        let health = DatabaseHealth()
        let site = StatusSite(
            gauges: GaugeSource(upload), config: shared, heartbeats: Heartbeats(), health: health,
            csrfKey: CSRFKey(bytes: Array("test key".utf8)))
        return (site, GaugeSource(upload), health, temp)
    }

    @Test("/healthz: ok, then 503 while paused, then 503 while the database cannot be written, ok again")
    func healthStates() throws {
        let (site, gauges, health, _) = try Self.site(actions: false)
        #expect(site.healthz().status == 200)
        _ = gauges.pause.pause("token refused by the API")
        let paused = site.healthz()
        #expect(
            paused.status == 503 && String(decoding: paused.body, as: UTF8.self) == "paused: token refused by the API\n"
        )
        _ = gauges.pause.resume()
        health.recordWrite(SQLiteError(code: 13, message: "database or disk is full", sql: nil))
        let full = site.healthz()
        #expect(
            full.status == 503 && String(decoding: full.body, as: UTF8.self).hasPrefix("database cannot be written: "))
        health.recordWrite(nil)
        #expect(site.healthz().status == 200)
    }

    @Test("actions: the routes answer 303 back to the page; with actions off the page has no forms")
    func actionRoutes() throws {
        // The table must outlive the page load, or the page is a 503 with no form at all.
        let (off, _, _, temp) = try Self.site(actions: false)
        defer { withExtendedLifetime(temp) {} }
        let now = Int64(1_700_000_000)
        let page = off.page(nowSeconds: now)
        #expect(page.status == 200 && !String(decoding: page.body, as: UTF8.self).contains("method=\"post\""))
        let (on, _, _, _) = try Self.site(actions: true)
        let all = on.respond(to: .retryFailed, nowSeconds: now)
        #expect(all.status == 303 && all.headers.contains { $0 == ("Location", "/?done=retried-0") })
        let one = on.respond(to: .retryJob(7), nowSeconds: now)
        #expect(one.status == 303 && one.headers.contains { $0 == ("Location", "/?done=retried-0&job=7") })
    }

    @Test("the action's 303 carries what it did; the page it leads to says so once, from the numbers alone")
    func actionNotice() throws {
        let (site, gauges, _, temp) = try Self.site(actions: true)
        defer { withExtendedLifetime(temp) {} }
        let kept = temp.database + "-kept.png"
        try writeFile(atPath: kept, contents: Data([1]))
        defer { try? FileManager.default.removeItem(atPath: kept) }
        try gauges.store.enqueue([
            FileCandidate(path: RawPath(kept), root: nil, size: 1, mtimeNanos: 1),
            FileCandidate.inDrop("gone.png"),
        ])
        for _ in 0..<2 {
            let claimed = try #require(try gauges.store.claim(leaseMillis: 60_000))
            try gauges.store.markFailed(
                id: claimed.id, error: "not an image", code: nil, sha256: nil, countAttempt: true,
                afterAction: nil)
        }
        let now = Int64(1_700_000_000)
        let reply = site.respond(to: .retryFailed, nowSeconds: now)
        let location = try #require(reply.headers.first { $0.0 == "Location" }?.1)
        #expect(location == "/?done=retried-1&gone=1")
        let page = String(
            decoding: site.page(nowSeconds: now, notice: ActionNotice(target: location)).body, as: UTF8.self)
        #expect(
            page.contains(
                #"<p class="notice" id="notice" role="status">1 failed jobs queued again; left as they are: 1 whose file is no longer there</p>"#
            ))
        // The page's own refresh goes to `/`: the notice is shown once, not every 10 s.
        #expect(page.contains(#"<meta http-equiv="refresh" content="10; url=/">"#))
        let plain = String(decoding: site.page(nowSeconds: now).body, as: UTF8.self)
        #expect(!plain.contains("id=\"notice\"") && plain.contains(#"<meta http-equiv="refresh" content="10">"#))
    }

    @Test("every page load carries a new CSRF token, and each is one the gate accepts for an action")
    func tokenPerPageLoad() throws {
        // The temporary folder must outlive the page loads: the report opens the table by its path.
        let (site, gauges, _, temp) = try Self.site(actions: true)
        defer { withExtendedLifetime(temp) {} }
        try gauges.store.enqueue([FileCandidate.inDrop("a.png")])
        let claimed = try #require(try gauges.store.claim(leaseMillis: 60_000))
        try gauges.store.markFailed(
            id: claimed.id, error: "not an image", code: nil, sha256: nil, countAttempt: true, afterAction: nil)
        let now = Int64(1_700_000_000)
        let tokens = try (0..<3).map { _ in try Self.token(in: site.page(nowSeconds: now)) }
        #expect(Set(tokens).count == 3, "\(tokens)")
        let gate = RequestGate(
            policy: RequestGate.Policy(
                http: site.config.current.http, csrfKey: site.csrfKey,
                maxBodyBytes: StatusEndpoint.maxBodyBytes))
        for token in tokens {
            let decision = gate.decide(
                method: "POST", uri: "/retry-failed", headers: [("Host", "localhost")],
                body: Array("csrf=\(token)".utf8), nowSeconds: now + 5)
            #expect(decision == .proceed(.retryFailed))
        }
    }

    static func token(in reply: HTTPReply) throws -> String {
        let page = String(decoding: reply.body, as: UTF8.self)
        let range = try #require(page.range(of: #"name="csrf" value="[0-9a-f.]+""#, options: .regularExpression))
        return String(page[range].dropFirst(#"name="csrf" value=""#.count).dropLast())
    }
}
