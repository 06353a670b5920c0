import ImagedropParsing
import ImagedropSystem
import ImagedropStore
import ImagedropPipeline
import ImagedropSupport

/// The one HTML page: counts, an inline SVG of uploads per minute over the last hour, the last uploads with
/// their first variant (and a thumbnail unless URLs are signed), recent failures. No script, no external
/// stylesheet; it reloads itself every 10 s and fits a phone's width.
package enum StatusPage {
    package struct Input {
        package var report: StatusReport
        package var recent: [Job]
        package var perMinute: [String: Int]
        package var nowMillis: Int64
        /// Sources whose images may be shown as thumbnails (their URLs are not signed).
        package var thumbnailSources: Set<String>
        /// Set only with `[http] actions = true`: the forms carry it.
        package var csrfToken: String?
        /// What the action that redirected here did.
        package var notice: ActionNotice? = nil
    }

    package static func render(_ input: Input) -> String {
        let report = input.report
        var html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="refresh" content="10\(input.notice == nil ? "" : "; url=/")">
            <title>imagedrop</title>
            <style>
            body{font:15px/1.4 system-ui,sans-serif;margin:0 auto;padding:12px;max-width:960px;color:#222}
            h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.4em}
            table{border-collapse:collapse;width:100%}td,th{padding:4px 6px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
            td.path,td.image{word-break:break-all}td.image{font-size:.85em;width:40%}img.thumb{width:48px;height:48px;object-fit:cover;border-radius:4px}
            .counts{display:flex;flex-wrap:wrap;gap:8px}.count{padding:6px 10px;border:1px solid #ccc;border-radius:6px}
            .paused{background:#fee;padding:8px;border:1px solid #c00}svg{width:100%;height:auto}
            .notice{background:#efe;padding:8px;border:1px solid #3a7}
            form{display:inline}button{font:inherit}
            </style></head><body>
            <h1>imagedrop</h1>

            """
        // Made of numbers only (ActionNotice), escaped all the same. The refresh above goes to `/`, so it is shown once.
        if let notice = input.notice { html += "<p class=\"notice\" id=\"notice\" role=\"status\">\(escape(notice.text))</p>\n" }
        if report.running {
            html += "<p id=\"daemon\">daemon running (pid \(report.pid.map(String.init) ?? "?"))</p>\n"
        } else {
            html += "<p id=\"daemon\">daemon not running</p>\n"
        }
        // The operator's pause shows with or without a daemon; the daemon's own only while it runs.
        if let paused = report.pausedReason { html += "<p class=\"paused\" id=\"paused\">PAUSED: \(escape(paused))</p>\n" }
        // The figure `status --json` and the progress line show (the daemon's BacklogETA at its last heartbeat).
        if let eta = report.backlogETAText { html += "<p id=\"eta\">\(escape(eta))</p>\n" }
        html += "<div class=\"counts\" id=\"counts\">\n"
        for state in JobState.allCases {
            html += "<span class=\"count\" data-state=\"\(state.rawValue)\">\(state.rawValue) <b>\(report.snapshot.counts[state] ?? 0)</b></span>\n"
        }
        html += "<span class=\"count\" data-state=\"total\">total <b>\(report.snapshot.total)</b></span>\n</div>\n"
        let sources = report.sources
        if sources.names.count > 1 || !sources.unconfigured.isEmpty {
            html += "<table id=\"sources\"><tr><th>source</th>"
                + JobState.allCases.map { "<th>\($0.rawValue)</th>" }.joined() + "<th>total</th></tr>\n"
            for name in sources.names {
                let note = sources.unconfigured.contains(name) ? " <small>(not configured: not uploaded)</small>" : ""
                html += "<tr class=\"source\" data-source=\"\(escape(name))\"><td>\(escape(name))\(note)</td>"
                    + JobState.allCases.map { "<td data-state=\"\($0.rawValue)\">\(sources.count(name, $0))</td>" }.joined()
                    + "<td data-state=\"total\">\(sources.total(name))</td></tr>\n"
            }
            html += "</table>\n"
        }
        if let quota = report.quota {
            html += "<p id=\"quota\">image quota: \(quota.current) of \(quota.allowed) images stored "
                + "<small>(checked \(escape(quota.checkedAt)))</small></p>\n"
        }
        if let webhooks = report.webhooks, webhooks.pending + webhooks.dead > 0 {
            html += "<p id=\"webhooks\">webhooks: \(webhooks.pending) pending, \(webhooks.dead) dead</p>\n"
        }

        html += "<h2>Uploads per minute, last hour</h2>\n" + chart(input.perMinute, nowMillis: input.nowMillis)

        html += "<h2>Last uploads</h2>\n<table id=\"recent\"><tr><th></th><th>path</th><th>image</th></tr>\n"
        for job in input.recent {
            let first = job.variants.first
            var thumb = ""
            if let first, input.thumbnailSources.contains(job.source), isWebURL(first) {
                thumb = "<img class=\"thumb\" loading=\"lazy\" alt=\"\" src=\"\(escape(first))\">"
            }
            let link = first.map { isWebURL($0) ? "<a href=\"\(escape($0))\">\(escape(job.imageID ?? $0))</a>" : escape(job.imageID ?? "") }
                ?? escape(job.imageID ?? "")
            html += "<tr class=\"upload\"><td>\(thumb)</td><td class=\"path\">\(escape(job.path.display))</td><td class=\"image\">\(link)</td></tr>\n"
        }
        html += "</table>\n"

        html += "<h2>Recent failures</h2>\n"
        if let token = input.csrfToken, !report.snapshot.recentFailures.isEmpty {
            html += "<form method=\"post\" action=\"/retry-failed\"><input type=\"hidden\" name=\"csrf\" value=\"\(token)\">"
                + "<button id=\"retry-all\">retry all failed</button></form>\n"
        }
        html += "<table id=\"failures\"><tr><th>job</th><th>path</th><th>reason</th><th></th></tr>\n"
        for job in report.snapshot.recentFailures {
            var button = ""
            if let token = input.csrfToken {
                button = "<form method=\"post\" action=\"/jobs/\(job.id)/retry\"><input type=\"hidden\" name=\"csrf\" value=\"\(token)\">"
                    + "<button>retry</button></form>"
            }
            html += "<tr class=\"failure\"><td>\(job.id)</td><td class=\"path\">\(escape(job.path.display))</td>"
                + "<td>\(escape(job.lastError ?? ""))</td><td>\(button)</td></tr>\n"
        }
        html += "</table>\n<p><small>updated \(Timestamp.iso8601(millis: input.nowMillis)) · "
            + "<a href=\"/status.json\">status.json</a> · <a href=\"/metrics\">metrics</a></small></p>\n</body></html>\n"
        return html
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
        var svg = "<svg id=\"chart\" viewBox=\"0 0 600 130\" role=\"img\" aria-label=\"uploads per minute\">"
            + "<line x1=\"0\" y1=\"110\" x2=\"600\" y2=\"110\" stroke=\"#999\"/>"
        for (index, count) in counts.enumerated() {
            let height = Double(count) / Double(peak) * 100
            svg += "<rect class=\"bar\" data-count=\"\(count)\" x=\"\(index * 10 + 1)\" y=\"\(110 - height)\" width=\"8\" "
                + "height=\"\(height)\" fill=\"#3a7\"><title>\(count)</title></rect>"
        }
        svg += "<text x=\"0\" y=\"126\" font-size=\"11\">−60 min</text><text x=\"600\" y=\"126\" font-size=\"11\" "
            + "text-anchor=\"end\">now · peak \(peak)/min</text></svg>\n"
        return svg
    }

    package static func isWebURL(_ text: String) -> Bool { text.hasPrefix("https://") || text.hasPrefix("http://") }

    package static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
