import ImagedropParsing
import ImagedropSystem
import ImagedropStore
import ImagedropPipeline
import Foundation
import ImagedropSupport

/// The routes of the status endpoint, as plain functions of the daemon's state (no file on disk is ever read:
/// the only inputs are the job table, the in-memory metrics, the heartbeats and the pause gate). Who may ask is
/// `RequestGate`'s business: a route reaches here only once the gate let it through.
public final class StatusSite: Sendable {
    package let services: UploadServices
    package let health: DatabaseHealth
    /// Signs the CSRF token each page load carries in its forms (see `CSRFToken`).
    package let csrfKey: CSRFKey

    public convenience init(services: UploadServices, health: DatabaseHealth) {
        self.init(services: services, health: health, csrfKey: .random())
    }

    package init(services: UploadServices, health: DatabaseHealth, csrfKey: CSRFKey) {
        self.services = services
        self.health = health
        self.csrfKey = csrfKey
    }

    package var actionsEnabled: Bool { services.config.current.http.actions }

    /// Every route but `/healthz` reads the job table: the caller runs this on the database lane.
    package func respond(to route: StatusRoute, nowSeconds: Int64) -> HTTPReply {
        switch route {
        case .metrics:
            guard let text = MetricsWriter.current(services: services) else { return .text(503, "database unreadable") }
            return HTTPReply(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: text)
        case .healthz:
            return healthz()
        case .statusJSON:
            do {
                let report = try StatusReport.load(database: services.store.path, sources: services.config.current.sourceNames)
                return HTTPReply(status: 200, contentType: "application/json", body: JobRendering.json(report.jsonObject))
            } catch {
                return .text(503, "cannot read the job table: \(error)")
            }
        case .page:
            return page(nowSeconds: nowSeconds)
        case .retryFailed:
            return action { try services.store.retryFailed(ids: nil, fileIsGone: Job.fileIsGone).queued }
        case .retryJob(let id):
            return action { try services.store.retryFailed(ids: [id], fileIsGone: Job.fileIsGone).queued }
        }
    }

    /// The watchdog's own rule, plus the two states in which the daemon runs but does not upload.
    package func healthz() -> HTTPReply {
        if let problem = health.writeProblem { return .text(503, "database cannot be written: \(problem)") }
        let rule = Liveness.Rule(requestTimeoutSeconds: Double(services.config.current.upload.requestTimeoutSeconds))
        if case .wedged(let reason) = Liveness.evaluate(services.heartbeats.pulses, nowNanos: Timestamp.monotonicNanos(), rule: rule) {
            return .text(503, "wedged: \(reason)")
        }
        if let reason = services.pause.reason { return .text(503, "paused: \(reason)") }
        return .text(200, "ok")
    }

    private func action(_ work: () throws -> [Int64]) -> HTTPReply {
        do {
            let retried = try work()
            return HTTPReply(status: 303, body: "\(retried.count) failed jobs queued again\n", headers: [("Location", "/")])
        } catch {
            return .text(503, "cannot write the job table: \(error)")
        }
    }

    package func page(nowSeconds: Int64) -> HTTPReply {
        do {
            let report = try StatusReport.load(database: services.store.path, sources: services.config.current.sourceNames)
            let now = Timestamp.nowMillis()
            let input = StatusPage.Input(
                report: report, recent: try services.store.recentUploads(limit: 50),
                perMinute: try services.store.uploadsPerMinute(sinceMillis: now - 3_600_000), nowMillis: now,
                thumbnailSources: Set(services.config.current.resolvedSources.filter { !$0.images.requireSignedURLs }.map(\.name)),
                csrfToken: actionsEnabled ? csrfKey.issue(nowSeconds: nowSeconds) : nil)
            return HTTPReply(status: 200, contentType: "text/html; charset=utf-8", body: StatusPage.render(input), headers: [
                // The page loads nothing but the thumbnails and posts only to itself.
                ("Content-Security-Policy", "default-src 'none'; img-src https: http:; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"),
                ("X-Content-Type-Options", "nosniff"),
                ("Cache-Control", "no-store"),
            ])
        } catch {
            return .text(503, "cannot read the job table: \(error)")
        }
    }
}
