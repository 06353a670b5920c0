import Foundation

/// What a link check needs from one Markdown page: the links it makes and the anchors its headings give, read the
/// way GitHub renders them (fenced code and inline code hold no links and no headings).
struct MarkdownPage {
    let links: [String]
    let anchors: Set<String>

    init(text: String) {
        var links: [String] = []
        var anchors: Set<String> = []
        var seen: [String: Int] = [:]
        var fence: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let trimmed = line.drop { $0 == " " }
            if let open = fence {
                if trimmed.hasPrefix(open) { fence = nil }
                continue
            }
            if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") {
                fence = String(trimmed.prefix(3))
                continue
            }
            let prose = Self.outsideCodeSpans(line)
            links += Self.targets(in: prose)
            if let title = Self.headingTitle(line) {
                // GitHub numbers a repeated heading's anchor: install, install-1, install-2.
                let base = GitHubSlug.slug(title)
                let count = seen[base, default: 0]
                seen[base] = count + 1
                anchors.insert(count == 0 ? base : "\(base)-\(count)")
            }
        }
        self.links = links
        self.anchors = anchors
    }

    /// An ATX heading's text (`## Title`, up to three spaces before the hashes), or nil for any other line.
    static func headingTitle(_ line: String) -> String? {
        let indent = line.prefix { $0 == " " }.count
        guard indent <= 3 else { return nil }
        let rest = line.dropFirst(indent)
        let hashes = rest.prefix { $0 == "#" }.count
        guard (1...6).contains(hashes) else { return nil }
        let after = rest.dropFirst(hashes)
        guard after.isEmpty || after.first == " " else { return nil }
        return after.trimmingCharacters(in: .whitespaces)
    }

    /// The line with every `code span` removed: a link written inside backticks is shown, not followed.
    static func outsideCodeSpans(_ line: String) -> String {
        line.split(separator: "`", omittingEmptySubsequences: false).enumerated()
            .filter { $0.offset.isMultiple(of: 2) }.map { String($0.element) }.joined(separator: " ")
    }

    /// Targets of inline links and images (`[text](target "title")`) and of HTML `src="…"` / `href="…"`.
    static func targets(in prose: String) -> [String] {
        var found: [String] = []
        let patterns = [#"\]\(([^)\s]+)(?:\s+"[^"]*")?\)"#, #"(?:src|href)="([^"]+)""#]
        for pattern in patterns {
            let regex = try! NSRegularExpression(pattern: pattern)
            let range = NSRange(prose.startIndex..., in: prose)
            for match in regex.matches(in: prose, range: range) {
                if let target = Range(match.range(at: 1), in: prose) { found.append(String(prose[target])) }
            }
        }
        return found
    }
}

/// GitHub's heading anchors: the rendered text (a link's text, not its target), lowercased, every space a '-', and
/// everything that is neither a letter, a digit, '-' nor '_' dropped.
enum GitHubSlug {
    static func slug(_ heading: String) -> String {
        let linkText = try! NSRegularExpression(pattern: #"!?\[([^\]]*)\]\([^)]*\)"#)
        let text = linkText.stringByReplacingMatches(
            in: heading, range: NSRange(heading.startIndex..., in: heading), withTemplate: "$1")
        var slug = ""
        for character in text.lowercased() {
            if character == " " {
                slug.append("-")
            } else if character.isLetter || character.isNumber || character == "-" || character == "_" {
                slug.append(character)
            }
        }
        return slug
    }
}

/// The README and the pages of docs/ as one site: which links lead nowhere and which pages nobody can reach.
struct DocumentationSite {
    let root: URL

    /// README.md and every docs/*.md, as paths relative to the root.
    var pages: [String] {
        let docs =
            (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("docs").path)) ?? []
        return ["README.md"] + docs.filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
    }

    /// One line per problem, naming the page and the link: a file that does not exist, an anchor no heading gives,
    /// a link out of the repository, a docs page no chain of links from the README reaches.
    func problems() throws -> [String] {
        var parsed: [String: MarkdownPage] = [:]
        for page in pages {
            parsed[page] = MarkdownPage(
                text: try String(contentsOf: root.appendingPathComponent(page), encoding: .utf8))
        }
        var problems: [String] = []
        var edges: [String: [String]] = [:]
        for page in pages {
            for link in parsed[page]!.links where !Self.isExternal(link) {
                let (file, anchor) = Self.split(link)
                guard let target = file.isEmpty ? page : Self.resolve(file, from: page) else {
                    problems.append("\(page): \(link): leaves the repository")
                    continue
                }
                var isDirectory: ObjCBool = false
                guard
                    FileManager.default.fileExists(
                        atPath: root.appendingPathComponent(target).path,
                        isDirectory: &isDirectory)
                else {
                    problems.append("\(page): \(link): no file \(target)")
                    continue
                }
                if target.hasSuffix(".md") { edges[page, default: []].append(target) }
                guard let anchor else { continue }
                guard target.hasSuffix(".md"), !isDirectory.boolValue else {
                    problems.append("\(page): \(link): an anchor into \(target), which is not a Markdown page")
                    continue
                }
                let anchors =
                    try parsed[target]?.anchors
                    ?? MarkdownPage(
                        text: String(contentsOf: root.appendingPathComponent(target), encoding: .utf8)
                    ).anchors
                if !anchors.contains(anchor) { problems.append("\(page): \(link): no heading #\(anchor) in \(target)") }
            }
        }
        var reached: Set<String> = ["README.md"]
        var frontier = ["README.md"]
        while let page = frontier.popLast() {
            for next in edges[page, default: []] where !reached.contains(next) {
                reached.insert(next)
                frontier.append(next)
            }
        }
        for page in pages where !reached.contains(page) {
            problems.append("\(page): no chain of links from README.md reaches it")
        }
        return problems
    }

    static func isExternal(_ link: String) -> Bool {
        link.contains("://") || link.hasPrefix("mailto:")
    }

    static func split(_ link: String) -> (file: String, anchor: String?) {
        guard let hash = link.firstIndex(of: "#") else { return (link, nil) }
        return (String(link[..<hash]), String(link[link.index(after: hash)...]))
    }

    /// `file` as written on `page`, as a path from the root; nil when `..` climbs above the root.
    static func resolve(_ file: String, from page: String) -> String? {
        var parts = page.split(separator: "/").dropLast().map(String.init)
        for part in file.split(separator: "/").map(String.init) {
            switch part {
            case ".": continue
            case "..":
                if parts.isEmpty { return nil }
                parts.removeLast()
            default: parts.append(part)
            }
        }
        return parts.joined(separator: "/")
    }
}
