import ImagedropStore
import ImagedropSupport
import ImagedropSystem

/// `GET /jobs/{id}`: one job with every field `imagedrop show` prints (JobRendering.text), each escaped, and the
/// page an unknown id gets. It does not refresh itself: an operator reads it, and the job it shows may be done.
package enum JobPage {
    /// `csrfToken` is set only with `[http] actions = true`: a failed job then has its retry button.
    package static func render(_ job: Job, thumbnailSources: Set<String>, csrfToken: String?) -> String {
        let e = StatusPage.escape
        var rows: [(String, String)] = [
            ("job", "\(job.id)"),
            ("path", StatusPage.wrappedPath(job.path.display)),
        ]
        // The exact bytes of a name that is not UTF-8 (shown above with U+FFFD), as `show --json` gives them.
        if !job.path.isValidUTF8 { rows.append(("path bytes (hex)", e(Hex.encode(job.path.bytes)))) }
        rows += [
            ("kind", e(job.kind.rawValue)), ("source", e(job.source)), ("state", e(job.state.rawValue)),
            ("attempts", "\(job.attempts)"),
        ]
        if let error = job.lastError { rows.append(("last error", "<span class=\"error\">\(e(error))</span>")) }
        if let code = job.lastCode { rows.append(("last code", "\(code)")) }
        if job.dismissed {
            rows.append(
                ("dismissed", "yes (out of the failed counts; <code>imagedrop retry \(job.id)</code> queues it again)"))
        }
        if job.state == .retrying {
            rows.append(("next try", StatusPage.time(Timestamp.iso8601(millis: job.nextAttemptAtMillis))))
        }
        if let id = job.imageID { rows.append(("image id", e(id))) }
        for variant in job.variants {
            let shown = StatusPage.wrappedPath(variant)
            rows.append(("variant", StatusPage.isWebURL(variant) ? "<a href=\"\(e(variant))\">\(shown)</a>" : shown))
        }
        if let size = job.size { rows.append(("size", "\(size) bytes")) }
        if let sha = job.sha256 { rows.append(("sha256", e(sha))) }
        rows += [("created", StatusPage.time(job.createdAt)), ("updated", StatusPage.time(job.updatedAt))]
        if let uploaded = job.uploadedAt { rows.append(("uploaded", StatusPage.time(uploaded))) }
        if let moved = job.movedTo { rows.append(("moved to", StatusPage.wrappedPath(moved.display))) }

        var html =
            StatusPage.head(title: "imagedrop job \(job.id)", refresh: nil)
            + "<p><a href=\"/\">← imagedrop</a></p>\n"
            + "<h1>job \(job.id) · <span id=\"state\">\(e(job.state.rawValue))</span></h1>\n"
        if job.state == .done { html += "<p>" + StatusPage.thumbnail(job, sources: thumbnailSources) + "</p>\n" }
        html += "<dl id=\"job\">\n" + rows.map { "<dt>\($0.0)</dt><dd>\($0.1)</dd>\n" }.joined() + "</dl>\n"
        if let csrfToken, job.state == .failed {
            html +=
                "<form method=\"post\" action=\"/jobs/\(job.id)/retry\"><input type=\"hidden\" name=\"csrf\" "
                + "value=\"\(e(csrfToken))\"><button id=\"retry\">retry</button></form>\n"
        }
        return html + "</body></html>\n"
    }

    /// The id is a number the route parsed: nothing from the request but digits is shown.
    package static func notFound(id: Int64) -> String {
        StatusPage.head(title: "imagedrop: no job \(id)", refresh: nil)
            + "<p><a href=\"/\">← imagedrop</a></p>\n<h1>no job \(id)</h1>\n"
            + "<p>There is no job with this id: it may have been pruned (<code>imagedrop prune</code>).</p>\n</body></html>\n"
    }
}
