import ImagedropSystem
import ImagedropStore
import ImagedropPipeline
import Foundation
import ImagedropSupport

/// The routes of the status endpoint, as plain functions of the daemon's state (no file on disk is ever read:
/// the only inputs are the job table, the in-memory metrics, the heartbeats and the pause gate).
public final class StatusSite: Sendable {
    package let services: UploadServices
    package let health: DatabaseHealth
    /// The per-process token the page embeds in its forms; a POST without it is refused (CSRF).
    package let csrfToken: String

    public init(services: UploadServices, health: DatabaseHealth, csrfToken: String? = nil) {
        self.services = services
        self.health = health
        self.csrfToken = csrfToken ?? JobKey.make()
    }

    package var actionsEnabled: Bool { services.config.current.http.actions }

    public func respond(method: String, target: String, headers: [(String, String)], body: [UInt8]) -> HTTPReply {
        let path = String(target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        switch (method, path) {
        case ("GET", "/metrics"):
            guard let text = MetricsWriter.current(services: services) else { return .text(503, "database unreadable") }
            return HTTPReply(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: text)
        case ("GET", "/healthz"):
            return healthz()
        case ("GET", "/status.json"):
            do {
                let report = try StatusReport.load(database: services.store.path, sources: services.config.current.sourceNames)
                return HTTPReply(status: 200, contentType: "application/json", body: JobRendering.json(report.jsonObject))
            } catch {
                return .text(503, "cannot read the job table: \(error)")
            }
        case ("GET", "/"):
            return page()
        case ("POST", "/retry-failed"):
            return action(headers: headers, body: body) { try services.store.retryFailed(ids: nil, fileIsGone: Job.fileIsGone).queued }
        case ("POST", _) where path.hasPrefix("/jobs/") && path.hasSuffix("/retry"):
            let idText = path.dropFirst("/jobs/".count).dropLast("/retry".count)
            guard let id = Int64(idText) else { return .text(404, "no such job") }
            return action(headers: headers, body: body) { try services.store.retryFailed(ids: [id], fileIsGone: Job.fileIsGone).queued }
        case (_, "/metrics"), (_, "/healthz"), (_, "/status.json"), (_, "/"), (_, "/retry-failed"):
            return .text(405, "method not allowed")
        default:
            return .text(404, "not found")
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

    private func action(headers: [(String, String)], body: [UInt8], _ work: () throws -> [Int64]) -> HTTPReply {
        guard actionsEnabled else { return .text(403, "actions are off ([http] actions = false)") }
        guard let token = Self.csrfToken(headers: headers, body: body), Self.constantTimeEqual(token, csrfToken) else {
            return .text(403, "missing or wrong CSRF token (reload the page)")
        }
        do {
            let retried = try work()
            return HTTPReply(status: 303, body: "\(retried.count) failed jobs queued again\n", headers: [("Location", "/")])
        } catch {
            return .text(503, "cannot write the job table: \(error)")
        }
    }

    /// From the `X-Imagedrop-CSRF` header or the form field `csrf` (the page's forms).
    package static func csrfToken(headers: [(String, String)], body: [UInt8]) -> String? {
        if let header = headers.first(where: { $0.0.lowercased() == "x-imagedrop-csrf" }) { return header.1 }
        let form = String(decoding: body, as: UTF8.self)
        for pair in form.split(separator: "&") where pair.hasPrefix("csrf=") { return String(pair.dropFirst(5)) }
        return nil
    }

    package static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    package func page() -> HTTPReply {
        do {
            let report = try StatusReport.load(database: services.store.path, sources: services.config.current.sourceNames)
            let now = Timestamp.nowMillis()
            let input = StatusPage.Input(
                report: report, recent: try services.store.recentUploads(limit: 50),
                perMinute: try services.store.uploadsPerMinute(sinceMillis: now - 3_600_000), nowMillis: now,
                thumbnailSources: Set(services.config.current.resolvedSources.filter { !$0.images.requireSignedURLs }.map(\.name)),
                csrfToken: actionsEnabled ? csrfToken : nil)
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
