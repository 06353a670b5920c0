import Foundation
@testable import ImagedropSystem
@testable import ImagedropStore
@testable import ImagedropPipeline
@testable import ImagedropDaemon
import Logging
import Testing

/// The routes as functions, on a real job table: the states /healthz must tell apart, and the action guard.
@Suite("Status site", .serialized)
struct StatusSiteTests {
    static func site(actions: Bool) throws -> (StatusSite, UploadServices, DatabaseHealth, JobStoreTests.TempDB) {
        let temp = try JobStoreTests.TempDB()
        let store = try JobStore(path: temp.path)
        var config = Config()
        config.queue.database = temp.path
        config.http.actions = actions
        let shared = SharedConfig(config)
        let services = UploadServices(store: store, config: shared, tokens: TokenProvider(source: TokenSource(config: config, environment: [:])),
                                      logger: Logger(label: "test"))
        let health = DatabaseHealth()
        return (StatusSite(services: services, health: health, csrfToken: "feedface"), services, health, temp)
    }

    @Test("/healthz: ok, then 503 while paused, then 503 while the database cannot be written, ok again")
    func healthStates() throws {
        let (site, services, health, _) = try Self.site(actions: false)
        #expect(site.healthz().status == 200)
        _ = services.pause.pause("token refused by the API")
        let paused = site.healthz()
        #expect(paused.status == 503 && String(decoding: paused.body, as: UTF8.self) == "paused: token refused by the API\n")
        _ = services.pause.resume()
        health.recordWrite(SQLiteError(code: 13, message: "database or disk is full", sql: nil))
        let full = site.healthz()
        #expect(full.status == 503 && String(decoding: full.body, as: UTF8.self).hasPrefix("database cannot be written: "))
        health.recordWrite(nil)
        #expect(site.healthz().status == 200)
    }

    @Test("actions: 403 when off; with them on, 403 without or with a wrong token, 303 with it")
    func actionGuard() throws {
        let (off, _, _, _) = try Self.site(actions: false)
        #expect(off.respond(method: "POST", target: "/retry-failed", headers: [], body: Array("csrf=feedface".utf8)).status == 403)
        let (on, _, _, _) = try Self.site(actions: true)
        #expect(on.respond(method: "POST", target: "/retry-failed", headers: [], body: []).status == 403)
        #expect(on.respond(method: "POST", target: "/retry-failed", headers: [], body: Array("csrf=feedfacf".utf8)).status == 403)
        #expect(on.respond(method: "POST", target: "/retry-failed", headers: [], body: Array("csrf=feedface".utf8)).status == 303)
        #expect(on.respond(method: "POST", target: "/jobs/7/retry", headers: [("X-Imagedrop-CSRF", "feedface")], body: []).status == 303)
        #expect(on.respond(method: "POST", target: "/jobs/x/retry", headers: [("X-Imagedrop-CSRF", "feedface")], body: []).status == 404)
    }
}
