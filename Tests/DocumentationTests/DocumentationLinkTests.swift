import Foundation
import Testing

/// The README is a front page and docs/ the manual: every link between them leads somewhere, and the front page
/// stays short enough to be one.
@Suite("Documentation links")
struct DocumentationLinkTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test(
        "every relative link in README.md and docs/*.md reaches a file and a heading, and the README reaches every page"
    )
    func repositoryLinksHold() throws {
        let site = DocumentationSite(root: Self.repositoryRoot)
        #expect(site.pages.count > 10, "docs/ holds the manual's pages")
        let problems = try site.problems()
        #expect(problems.isEmpty, "broken documentation links:\n\(problems.joined(separator: "\n"))")
    }

    @Test("the README stays a front page: at most 1,500 words (`wc -w`), the rest in docs/")
    func readmeIsShort() throws {
        let text = try String(contentsOf: Self.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let words = text.split(whereSeparator: { $0.isWhitespace }).count
        #expect(words <= 1_500, "README.md has \(words) words: move the detail into its docs/ page")
    }

    @Test("the README's quick start is the demo and the test command CI runs, each a line of its first code block")
    func quickStartIsWhatCIRuns() throws {
        let readme = try String(contentsOf: Self.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let quickStart = try #require(readme.components(separatedBy: "## Quick start").dropFirst().first)
        let block = try #require(quickStart.components(separatedBy: "```").dropFirst().first)
        let commands = block.split(separator: "\n").dropFirst()
            .map { $0.split(separator: "#").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" }
            .filter { !$0.isEmpty }
        #expect(commands == ["scripts/demo.sh", "scripts/test.sh"])
        let ci = try String(contentsOf: Self.repositoryRoot.appendingPathComponent(".ci/run"), encoding: .utf8)
        #expect(
            ci.split(separator: "\n").contains("scripts/test.sh"), ".ci/run runs the README's test command as written")
    }

    @Test("a missing file, a missing heading, a link out of the repository and an unlinked page are each reported")
    func brokenLinksAreReported() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("imagedrop-docs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("docs"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let readme = """
            # Front
            [ok](docs/a.md#install-1) [gone](docs/gone.md) [no heading](docs/a.md#nowhere) [out](../x.md)
            `[shown, not followed](docs/missing.md)`
            ```
            [in a fence](docs/missing.md)
            ```
            """
        let page = """
            # A
            ## Install
            ## Install
            [back](../README.md#front) [self](#a)
            """
        try readme.write(to: root.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        try page.write(to: root.appendingPathComponent("docs/a.md"), atomically: true, encoding: .utf8)
        try "# B\n".write(to: root.appendingPathComponent("docs/b.md"), atomically: true, encoding: .utf8)

        #expect(
            try DocumentationSite(root: root).problems() == [
                "README.md: docs/gone.md: no file docs/gone.md",
                "README.md: docs/a.md#nowhere: no heading #nowhere in docs/a.md",
                "README.md: ../x.md: leaves the repository",
                "docs/b.md: no chain of links from README.md reaches it",
            ])
    }

    @Test(
        "anchors follow GitHub's rules",
        arguments: [
            ("Check status, retry, export", "check-status-retry-export"),
            ("Reconcile and recover", "reconcile-and-recover"),
            ("`imagedrop run` — the daemon", "imagedrop-run--the-daemon"),
            ("Start, reload, stop", "start-reload-stop"),
            ("See [Fleet](fleet.md) and snake_case", "see-fleet-and-snake_case"),
            ("Größe 2", "größe-2"),
        ])
    func slugs(heading: String, anchor: String) {
        #expect(GitHubSlug.slug(heading) == anchor)
    }
}
