import ImagedropParsing
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport

/// The one HTML page: a pause and the failures first, then counts, an inline SVG of uploads per minute over the
/// last hour, and the uploads with their first variant (and a thumbnail unless URLs are signed), both lists paged
/// and searchable by path. No script, no external stylesheet; it reloads itself every 10 s and fits a phone's width.
package enum StatusPage {
    /// Rows per page of the uploads and failures lists.
    package static let pageSize = 50

    package struct Input {
        package var report: StatusReport
        /// One page of the done jobs, newest first (of those matching the search, if any).
        package var recent: JobStore.PageOfJobs
        /// One page of the failed jobs not dismissed, newest first (same page and search as `recent`).
        package var failures: JobStore.PageOfJobs
        package var perMinute: [String: Int]
        package var nowMillis: Int64
        /// Sources whose images may be shown as thumbnails (their URLs are not signed).
        package var thumbnailSources: Set<String>
        /// Set only with `[http] actions = true`: the forms carry it.
        package var csrfToken: String?
        /// What the action that redirected here did.
        package var notice: ActionNotice? = nil
        /// The page and the search the lists show.
        package var query = PageQuery()
        /// The fleet as this host's heartbeat last read it; nil without `[fleet]` (no fleet section).
        package var fleet: FleetFigures? = nil
    }

    /// What needs the operator comes first (a notice, a pause, the failures), then the figures, then the uploads.
    package static func render(_ input: Input) -> String {
        let report = input.report
        // A refresh keeps the page and the search; after an action it drops the notice (shown once).
        let query = input.query
        let refresh = input.notice == nil && query == PageQuery() ? "10" : "10; url=/" + query.query(page: query.page)
        var html = head(title: "imagedrop", refresh: refresh) + "<h1>imagedrop</h1>\n"
        // Made of numbers only (ActionNotice), escaped all the same.
        if let notice = input.notice {
            html += "<p class=\"notice\" id=\"notice\" role=\"status\">\(escape(notice.text))</p>\n"
        }
        // The operator's pause shows with or without a daemon; the daemon's own only while it runs.
        if let paused = report.pausedReason {
            html += "<p class=\"paused\" id=\"paused\">PAUSED: \(escape(paused))</p>\n"
        }
        if report.running {
            html += "<p id=\"daemon\">daemon running (pid \(report.pid.map(String.init) ?? "?"))</p>\n"
        } else {
            html += "<p id=\"daemon\" class=\"paused\">daemon not running</p>\n"
        }
        html += searchForm(input.query)
        html += failuresSection(input, failedCount: report.snapshot.counts[.failed] ?? 0)
        // The figure `status --json` and the progress line show (the daemon's BacklogETA at its last heartbeat).
        if let eta = report.backlogETAText { html += "<p id=\"eta\">\(escape(eta))</p>\n" }
        html += "<div class=\"counts\" id=\"counts\">\n"
        for state in JobState.allCases {
            html +=
                "<span class=\"count\" data-state=\"\(state.rawValue)\">\(state.rawValue) <b>\(report.snapshot.counts[state] ?? 0)</b></span>\n"
        }
        html += "<span class=\"count\" data-state=\"total\">total <b>\(report.snapshot.total)</b></span>\n</div>\n"
        html += sourcesTable(report.sources)
        if let fleet = input.fleet { html += fleetSection(fleet) }
        if let quota = report.quota {
            html +=
                "<p id=\"quota\">image quota: \(quota.current) of \(quota.allowed) images stored "
                + "<small>(checked \(escape(quota.checkedAt)))</small></p>\n"
        }
        if let webhooks = report.webhooks, webhooks.pending + webhooks.dead > 0 {
            html += "<p id=\"webhooks\">webhooks: \(webhooks.pending) pending, \(webhooks.dead) dead</p>\n"
        }
        html += "<h2>Uploads per minute, last hour</h2>\n" + chart(input.perMinute, nowMillis: input.nowMillis)
        html += uploadsSection(input)
        html +=
            "<p><small>updated \(Timestamp.iso8601(millis: input.nowMillis)) · "
            + "<a href=\"/status.json\">status.json</a> · <a href=\"/metrics\">metrics</a></small></p>\n</body></html>\n"
        return html
    }

    /// Per source, only when there is more than the default one. In its own scrolling box: seven columns of
    /// figures may be wider than a phone, and the page itself must never scroll sideways.
    private static func sourcesTable(_ sources: SourceCounts) -> String {
        guard sources.names.count > 1 || !sources.unconfigured.isEmpty else { return "" }
        var html =
            "<div class=\"wide\"><table id=\"sources\"><tr><th>source</th>"
            + JobState.allCases.map { "<th>\($0.rawValue)</th>" }.joined() + "<th>total</th></tr>\n"
        for name in sources.names {
            let note = sources.unconfigured.contains(name) ? " <small>(not configured: not uploaded)</small>" : ""
            html +=
                "<tr class=\"source\" data-source=\"\(escape(name))\"><td>\(escape(name))\(note)</td>"
                + JobState.allCases.map { "<td data-state=\"\($0.rawValue)\">\(sources.count(name, $0))</td>" }.joined()
                + "<td data-state=\"total\">\(sources.total(name))</td></tr>\n"
        }
        return html + "</table></div>\n"
    }

    /// The document head shared by the status page and the job pages: inline style only, fluid to 320 px.
    package static func head(title: String, refresh: String?) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        \(refresh.map { "<meta http-equiv=\"refresh\" content=\"\(escape($0))\">\n" } ?? "")<title>\(escape(title))</title>
        <style>
        *{box-sizing:border-box}
        body{font:15px/1.4 system-ui,sans-serif;margin:0 auto;padding:12px;max-width:960px;color:#222;overflow-wrap:anywhere}
        h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.4em}
        table{border-collapse:collapse;width:100%}td,th{padding:4px 6px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
        .wide{overflow-x:auto;max-width:100%}
        ul.jobs{list-style:none;margin:0;padding:0}ul.jobs li{display:flex;gap:10px;padding:6px 0;border-bottom:1px solid #ddd}
        .job{flex:1;min-width:0}.meta{font-size:.85em;color:#555}.error{color:#900}
        .tbox,.tbox img::after{display:flex;align-items:center;justify-content:center;background:#eee;color:#777;
        font-size:9px;line-height:1.1;text-align:center}
        .tbox{flex:none;position:relative;width:48px;height:48px;overflow:hidden;border-radius:4px}
        .tbox img{position:absolute;left:0;top:0;width:48px;height:48px;object-fit:cover}
        .tbox img::after{content:"no preview";position:absolute;inset:0}
        .counts{display:flex;flex-wrap:wrap;gap:8px}.count{padding:6px 10px;border:1px solid #ccc;border-radius:6px}
        .paused{background:#fee;padding:8px;border:1px solid #c00}svg{width:100%;height:auto}
        .notice{background:#efe;padding:8px;border:1px solid #3a7}
        form{display:inline}button{font:inherit}input[type=search]{font:inherit;width:16em;max-width:100%}
        .pager{display:flex;gap:1em;flex-wrap:wrap}dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px}
        dt{font-weight:600}dd{margin:0;min-width:0}
        </style></head><body>

        """
    }

    /// 60 bars, oldest on the left; the current minute is the last bar.
    package static func chart(_ perMinute: [String: Int], nowMillis: Int64) -> String {
        let minuteMillis: Int64 = 60_000
        let current = nowMillis / minuteMillis * minuteMillis
        let counts = (0..<60).map { index -> Int in
            let start = current - Int64(59 - index) * minuteMillis
            return perMinute[String(Timestamp.iso8601(millis: start).prefix(16))] ?? 0
        }
        let peak = max(counts.max() ?? 0, 1)
        var svg =
            "<svg id=\"chart\" viewBox=\"0 0 600 130\" role=\"img\" aria-label=\"uploads per minute\">"
            + "<line x1=\"0\" y1=\"110\" x2=\"600\" y2=\"110\" stroke=\"#999\"/>"
        for (index, count) in counts.enumerated() {
            let height = Double(count) / Double(peak) * 100
            svg +=
                "<rect class=\"bar\" data-count=\"\(count)\" x=\"\(index * 10 + 1)\" y=\"\(110 - height)\" width=\"8\" "
                + "height=\"\(height)\" fill=\"#3a7\"><title>\(count)</title></rect>"
        }
        svg +=
            "<text x=\"0\" y=\"126\" font-size=\"11\">−60 min</text><text x=\"600\" y=\"126\" font-size=\"11\" "
            + "text-anchor=\"end\">now · peak \(peak)/min</text></svg>\n"
        return svg
    }
}
