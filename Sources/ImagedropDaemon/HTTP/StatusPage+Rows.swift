import FoundationEssentials
import ImagedropParsing
import ImagedropStore
import ImagedropSystem

/// The page's two job lists, their pager and search, and the escaping every text from the table goes through.
extension StatusPage {
    /// A GET form to `/` (no script: the browser builds `?q=…` itself); a search starts at page 1.
    static func searchForm(_ query: PageQuery) -> String {
        var html =
            "<form id=\"search\" method=\"get\" action=\"/\" role=\"search\"><input type=\"search\" name=\"q\" "
            + "maxlength=\"\(PageQuery.maxSearchCharacters)\" placeholder=\"path contains…\" aria-label=\"path contains\" "
            + "value=\"\(escape(query.search ?? ""))\"> <button>search</button>"
        if query.search != nil { html += " <a href=\"/\" id=\"clear-search\">clear</a>" }
        return html + "</form>\n"
    }

    static func failuresSection(_ input: Input, failedCount: Int) -> String {
        var html = "<h2 id=\"failures-heading\">Failures (\(failedCount))</h2>\n"
        if let token = input.csrfToken, !input.failures.jobs.isEmpty {
            html +=
                "<form method=\"post\" action=\"/retry-failed\"><input type=\"hidden\" name=\"csrf\" value=\"\(escape(token))\">"
                + "<button id=\"retry-all\">retry all failed</button></form>\n"
        }
        html += "<ul class=\"jobs\" id=\"failures\">\n"
        for job in input.failures.jobs {
            var button = ""
            if let token = input.csrfToken {
                button =
                    " <form method=\"post\" action=\"/jobs/\(job.id)/retry\"><input type=\"hidden\" name=\"csrf\" "
                    + "value=\"\(escape(token))\"><button>retry</button></form>"
            }
            html +=
                "<li class=\"failure\" data-job=\"\(job.id)\"><div class=\"job\">\(pathLink(job))"
                + "<div class=\"meta\">job \(job.id) · failed \(time(job.updatedAt))\(button)</div>"
                + "<div class=\"error\">\(escape(job.lastError ?? ""))</div></div></li>\n"
        }
        if input.failures.jobs.isEmpty { html += none(input.query, otherwise: "none") }
        return html + "</ul>\n" + pager(input.query, hasMore: input.failures.hasMore, id: "failures-pager")
    }

    static func uploadsSection(_ input: Input) -> String {
        var html = "<h2>Last uploads</h2>\n<ul class=\"jobs\" id=\"recent\">\n"
        for job in input.recent.jobs {
            let first = job.variants.first
            let id = escape(job.imageID ?? "")
            let link =
                first.map { isWebURL($0) ? "<a href=\"\(escape($0))\">\(escape(job.imageID ?? $0))</a>" : id } ?? id
            html +=
                "<li class=\"upload\" data-job=\"\(job.id)\">\(thumbnail(job, sources: input.thumbnailSources))"
                + "<div class=\"job\">\(pathLink(job))<div class=\"meta\">uploaded \(time(job.uploadedAt ?? job.updatedAt))"
                + (link.isEmpty ? "" : " · \(link)") + "</div></div></li>\n"
        }
        if input.recent.jobs.isEmpty { html += none(input.query, otherwise: "none yet") }
        return html + "</ul>\n" + pager(input.query, hasMore: input.recent.hasMore, id: "recent-pager")
    }

    /// An empty list's one row: with a search, it says nothing matched.
    private static func none(_ query: PageQuery, otherwise: String) -> String {
        "<li class=\"none\">" + (query.search == nil ? otherwise : "none matching") + "</li>\n"
    }

    /// A fixed 48 px box whose text shows until an image covers it: a variant that cannot load (deleted, offline,
    /// a CDN the browser cannot reach) leaves the text, never a broken-image icon, and needs no script (the `img`'s
    /// `::after`, which browsers draw only for an image that failed, repeats the text over the icon). Only for a
    /// done job with a web URL of a source whose URLs are not signed; the others get the box with the text alone.
    static func thumbnail(_ job: Job, sources: Set<String>) -> String {
        guard job.state == .done, let first = job.variants.first, isWebURL(first), sources.contains(job.source) else {
            return "<span class=\"tbox\">no preview</span>"
        }
        return
            "<span class=\"tbox\">no preview<img class=\"thumb\" loading=\"lazy\" alt=\"\" src=\"\(escape(first))\"></span>"
    }

    static func pathLink(_ job: Job) -> String {
        "<a class=\"path\" href=\"/jobs/\(job.id)\">\(wrappedPath(job.path.display))</a>"
    }

    /// Prev/next links for both lists at once (they share the page number); none when there is one page only.
    static func pager(_ query: PageQuery, hasMore: Bool, id: String) -> String {
        guard query.page > 1 || hasMore else { return "" }
        var links: [String] = []
        if query.page > 1 {
            links.append("<a rel=\"prev\" href=\"/\(escape(query.query(page: query.page - 1)))\">← newer</a>")
        }
        links.append("<span>page \(query.page)</span>")
        if hasMore, query.page < PageQuery.maxPage {
            links.append("<a rel=\"next\" href=\"/\(escape(query.query(page: query.page + 1)))\">older →</a>")
        }
        return "<nav class=\"pager\" id=\"\(id)\">" + links.joined(separator: " ") + "</nav>\n"
    }

    /// Escaped, with a line-break opportunity after every `/`, so a long path wraps at its folders first.
    /// Escaping never produces a `/`, so the breaks land only after the path's own slashes.
    package static func wrappedPath(_ path: String) -> String {
        escape(path).replacing("/", with: "/<wbr>")
    }

    /// `2026-12-05T17:34:51.123Z` as `2026-12-05 17:34:51Z`, in a `<time>` carrying the exact value.
    static func time(_ iso: String) -> String {
        var shown = iso.replacing("T", with: " ")
        if let dot = shown.firstIndex(of: "."), shown.hasSuffix("Z") { shown = String(shown[..<dot]) + "Z" }
        return "<time datetime=\"\(escape(iso))\">\(escape(shown))</time>"
    }

    package static func isWebURL(_ text: String) -> Bool { text.hasPrefix("https://") || text.hasPrefix("http://") }

    /// For text and attribute values alike (both quote characters are escaped).
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
