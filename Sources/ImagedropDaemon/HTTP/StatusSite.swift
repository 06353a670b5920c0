import FoundationEssentials
import ImagedropParsing
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem

/// The routes of the status endpoint, as plain functions of the daemon's state (no file on disk is ever read:
/// the only inputs are the job table, the in-memory metrics, the heartbeats and the pause gate). Who may ask is
/// `RequestGate`'s business: a route reaches here only once the gate let it through.
package final class StatusSite: Sendable {
    package let gauges: GaugeSource
    package let config: SharedConfig
    package let heartbeats: Heartbeats
    package let health: DatabaseHealth
    /// Signs the CSRF token each page load carries in its forms (see `CSRFToken`).
    package let csrfKey: CSRFKey

    package convenience init(gauges: GaugeSource, config: SharedConfig, heartbeats: Heartbeats, health: DatabaseHealth)
    {
        self.init(gauges: gauges, config: config, heartbeats: heartbeats, health: health, csrfKey: .random())
    }

    package init(
        gauges: GaugeSource, config: SharedConfig, heartbeats: Heartbeats, health: DatabaseHealth, csrfKey: CSRFKey
    ) {
        self.gauges = gauges
        self.config = config
        self.heartbeats = heartbeats
        self.health = health
        self.csrfKey = csrfKey
    }

    package var actionsEnabled: Bool { config.current.http.actions }

    /// Every route but `/healthz` reads the job table: the caller runs this on the database lane. `notice` is what
    /// the page's query says an action just did (see `ActionNotice`), `query` its page and search; only the page
    /// uses them.
    package func respond(
        to route: StatusRoute, nowSeconds: Int64, notice: ActionNotice? = nil,
        query: PageQuery = PageQuery()
    ) -> HTTPReply {
        switch route {
        case .metrics:
            guard let text = MetricsWriter.current(gauges) else { return .text(503, "database unreadable") }
            return HTTPReply(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: text)
        case .healthz:
            return healthz()
        case .statusJSON:
            do {
                let report = try StatusReport.load(database: gauges.store.path, sources: config.current.sourceNames)
                return HTTPReply(
                    status: 200, contentType: "application/json", body: JobRendering.json(report.jsonObject))
            } catch {
                return .text(503, "cannot read the job table: \(error)")
            }
        case .page:
            return page(nowSeconds: nowSeconds, notice: notice, query: query)
        case .job(let id):
            return jobPage(id: id, nowSeconds: nowSeconds)
        case .retryFailed:
            return action(job: nil) { try gauges.store.retryFailed(ids: nil, fileIsGone: Job.fileIsGone) }
        case .retryJob(let id):
            return action(job: id) { try gauges.store.retryFailed(ids: [id], fileIsGone: Job.fileIsGone) }
        }
    }

    /// The watchdog's own rule, plus the two states in which the daemon runs but does not upload.
    package func healthz() -> HTTPReply {
        if let problem = health.writeProblem { return .text(503, "database cannot be written: \(problem)") }
        let rule = Liveness.Rule(requestTimeoutSeconds: Double(config.current.upload.requestTimeoutSeconds))
        if case .wedged(let reason) = Liveness.evaluate(
            heartbeats.pulses, nowNanos: Timestamp.monotonicNanos(), rule: rule)
        {
            return .text(503, "wedged: \(reason)")
        }
        if let reason = gauges.pause.reason { return .text(503, "paused: \(reason)") }
        return .text(200, "ok")
    }

    /// The 303 back to the page carries what happened in its query, so the page can say it (and a reload of the
    /// page repeats nothing).
    private func action(job: Int64?, _ work: () throws -> JobStore.RetryResult) -> HTTPReply {
        do {
            let result = try work()
            let notice = ActionNotice(
                retried: result.queued.count, superseded: result.superseded.count,
                gone: result.gone.count, job: job)
            return HTTPReply(
                status: 303, body: "\(result.queued.count) failed jobs queued again\n",
                headers: [("Location", notice.location)])
        } catch {
            return .text(503, "cannot write the job table: \(error)")
        }
    }

    package func page(nowSeconds: Int64, notice: ActionNotice? = nil, query: PageQuery = PageQuery()) -> HTTPReply {
        do {
            let report = try StatusReport.load(database: gauges.store.path, sources: config.current.sourceNames)
            let now = Timestamp.nowMillis()
            // Both lists share the page number: bounded reads (LIMIT, OFFSET at most 10,000 pages of 50).
            let offset = (query.page - 1) * StatusPage.pageSize
            let input = StatusPage.Input(
                report: report,
                recent: try gauges.store.uploads(
                    limit: StatusPage.pageSize, offset: offset, pathContaining: query.search),
                failures: try gauges.store.failures(
                    limit: StatusPage.pageSize, offset: offset, pathContaining: query.search),
                perMinute: try gauges.store.uploadsPerMinute(sinceMillis: now - 3_600_000), nowMillis: now,
                thumbnailSources: thumbnailSources,
                csrfToken: actionsEnabled ? csrfKey.issue(nowSeconds: nowSeconds) : nil, notice: notice, query: query,
                fleet: (gauges.budget as? FleetBudget)?.figures())
            return Self.html(200, StatusPage.render(input))
        } catch {
            return .text(503, "cannot read the job table: \(error)")
        }
    }

    /// `GET /jobs/{id}`: the job as `imagedrop show` prints it, or a 404 page.
    package func jobPage(id: Int64, nowSeconds: Int64) -> HTTPReply {
        do {
            guard let job = try gauges.store.job(id: id) else { return Self.html(404, JobPage.notFound(id: id)) }
            return Self.html(
                200,
                JobPage.render(
                    job, thumbnailSources: thumbnailSources,
                    csrfToken: actionsEnabled ? csrfKey.issue(nowSeconds: nowSeconds) : nil))
        } catch {
            return .text(503, "cannot read the job table: \(error)")
        }
    }

    /// Sources whose images may be shown as thumbnails: a signed URL would not load without its signature.
    private var thumbnailSources: Set<String> {
        Set(config.current.resolvedSources.filter { !$0.images.requireSignedURLs }.map(\.name))
    }

    private static func html(_ status: Int, _ body: String) -> HTTPReply {
        HTTPReply(
            status: status, contentType: "text/html; charset=utf-8", body: body,
            headers: [
                // The pages load nothing but the thumbnails and post only to themselves.
                (
                    "Content-Security-Policy",
                    "default-src 'none'; img-src https: http:; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
                ),
                ("X-Content-Type-Options", "nosniff"),
                ("Cache-Control", "no-store"),
            ])
    }
}
