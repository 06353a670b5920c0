import ImagedropPipeline
import ImagedropStore

extension StatusPage {
    /// With `[fleet]`: whether this host goes on alone (and why), the fleet's pause, and every host seen in the
    /// last 24 h as their heartbeats say (state, rate, counts, own pause, version, age of the last beat).
    static func fleetSection(_ fleet: FleetFigures) -> String {
        var html = "<h2>Fleet</h2>\n"
        if let reason = fleet.degradedReason {
            html +=
                "<p class=\"paused\" id=\"fleet-degraded\">fleet: degraded (\(escape(reason))); "
                + "sending alone at a safe share of the budget until Redis answers</p>\n"
        }
        if let paused = fleet.pausedReason {
            html += "<p class=\"paused\" id=\"fleet-paused\">fleet paused: \(escape(paused))</p>\n"
        }
        guard let view = fleet.view else {
            return html + "<p id=\"fleet-hosts\">no heartbeat read from Redis yet</p>\n"
        }
        html +=
            "<div class=\"wide\"><table id=\"fleet\"><tr><th>host</th><th>state</th><th>uploads/min</th>"
            + JobState.allCases.map { "<th>\($0.rawValue)</th>" }.joined()
            + "<th>paused</th><th>version</th><th>last beat</th></tr>\n"
        for host in view.hosts {
            let beat = host.lastBeatSeconds.map { "\($0) s ago" } ?? "never"
            html +=
                "<tr class=\"host\" data-host=\"\(escape(host.name))\" data-state=\"\(escape(host.state))\">"
                + "<td>\(escape(host.name))</td><td>\(escape(host.state))</td><td>\(host.uploadsLastMinute)</td>"
                + JobState.allCases.map { "<td data-state=\"\($0.rawValue)\">\(host.jobs[$0.rawValue] ?? 0)</td>" }
                .joined()
                + "<td>\(escape(host.paused ?? "no"))</td><td>\(escape(host.version ?? "?"))</td><td>\(beat)</td></tr>\n"
        }
        return html + "</table></div>\n"
    }
}
