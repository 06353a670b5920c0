import Foundation
import ImagedropParsing
import ImagedropStoreTestSupport
import Testing

@testable import ImagedropPipeline
@testable import ImagedropStore
@testable import ImagedropSystem

/// `[[source]]` resolution: each source's effective settings are the top-level values with its own keys laid
/// over them; the job store takes only configured sources' jobs and counts jobs per source.
@Suite("Sources")
struct SourceSettingsTests {
    static let head = """
        [cloudflare]
        account_id = "023e105f4ecef8ad9ca31a8372d0c353"
        [queue]
        database = "/tmp/x.sqlite3"

        """

    func parse(_ text: String) throws -> Config {
        try ConfigLoader.parse(Self.head + text, path: "/etc/imagedrop/imagedrop.toml", checkFolders: false)
    }

    func error(_ text: String) -> String {
        do {
            _ = try parse(text)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test("overrides apply to their source only; everything else is inherited from the top level")
    func overridesAndInheritance() throws {
        let config = try parse(
            """
            [images]
            id_prefix = "top/"
            creator = "ops"
            metadata = { team = "top" }
            [watch]
            paths = ["/srv/inbox"]
            settle_ms = 300
            exclude = [".*"]
            [after_upload]
            on_failure = "move"
            failed_dir = "/srv/failed"

            [[source]]
            name = "products"
            paths = ["/srv/products"]
            id_prefix = "products/"
            metadata = { kind = "product" }
            on_success = "move"
            done_dir = "/srv/done/products"
            settle_ms = 2000

            [[source]]
            name = "avatars"
            paths = ["/srv/avatars", "relative/avatars"]
            require_signed_urls = true
            id = "cloudflare"
            include = ["*.png"]
            recursive = false
            """)
        #expect(config.sourceNames == ["default", "products", "avatars"])
        #expect(
            config.watch.paths == ["/srv/inbox", "/srv/products", "/srv/avatars", "/etc/imagedrop/relative/avatars"])

        let top = try #require(config.effective(for: "default"))
        #expect(top.watch.paths == ["/srv/inbox"])
        #expect(top.images.idPrefix == "top/" && top.images.metadataJSON == #"{"team":"top"}"#)
        #expect(top.watch.settleMillis == 300 && top.afterUpload.onSuccess == .keep)

        let products = try #require(config.effective(for: "products"))
        #expect(products.images.idPrefix == "products/")
        #expect(products.images.metadataJSON == #"{"kind":"product"}"#, "metadata is replaced, not merged")
        #expect(products.images.creator == "ops", "inherited")
        #expect(products.watch.settleMillis == 2000 && products.watch.exclude == [".*"])
        #expect(products.afterUpload.onSuccess == .move && products.afterUpload.doneDir == "/srv/done/products")
        #expect(products.afterUpload.onFailure == .move && products.afterUpload.failedDir == "/srv/failed", "inherited")

        let avatars = try #require(config.effective(for: "avatars"))
        #expect(avatars.images.requireSignedURLs && avatars.images.idMode == .cloudflare)
        #expect(avatars.images.idPrefix == "top/")
        #expect(avatars.watch.include == ["*.png"] && !avatars.watch.recursive && avatars.watch.settleMillis == 300)

        let scoped = try #require(config.scoped(to: "products"))
        #expect(
            scoped.images == products.images && scoped.afterUpload == products.afterUpload
                && scoped.watch == products.watch)
        #expect(config.scoped(to: "gone") == nil)
        #expect(config.source(containing: RawPath("/srv/avatars/a/b.png"))?.name == "avatars")
        #expect(config.source(containing: RawPath("/srv/productsX/b.png")) == nil)
    }

    @Test("without top-level paths there is no default source; with neither, paths are required")
    func noImplicitDefault() throws {
        let config = try parse("[[source]]\nname = \"only\"\npaths = [\"/srv/only\"]\n")
        #expect(config.sourceNames == ["only"])
        #expect(config.watch.paths == ["/srv/only"])
        #expect(error("[images]\nid = \"path\"\n").contains("watch.paths: required"))
        // A table written before sources (no [[source]]): one source, `default`, unchanged.
        let old = try parse("[watch]\npaths = [\"/a\", \"/b\"]\n")
        #expect(old.sourceNames == ["default"] && old.effective(for: "default")?.watch.paths == ["/a", "/b"])
    }

    @Test(
        "errors name the source and the key",
        arguments: [
            (
                "[watch]\npaths = [\"/srv/in\"]\n[[source]]\nname = \"a\"\npaths = [\"/srv/in\"]\n",
                #"source "a".paths: "/srv/in" is also watched by source "default""#
            ),
            (
                "[watch]\npaths = [\"/srv/in\"]\n[[source]]\nname = \"a\"\npaths = [\"/srv/in/sub\"]\n",
                #"source "a".paths: "/srv/in/sub" lies inside "/srv/in" of source "default""#
            ),
            (
                "[[source]]\nname = \"a\"\npaths = [\"/srv/x/y\"]\n[[source]]\nname = \"b\"\npaths = [\"/srv/x\"]\n",
                #"source "b".paths: "/srv/x" contains "/srv/x/y" of source "a""#
            ),
            (
                "[[source]]\nname = \"Bad Name\"\npaths = [\"/srv/x\"]\n",
                #"source[1].name: "Bad Name" must match [a-z0-9_-]+"#
            ),
            ("[[source]]\npaths = [\"/srv/x\"]\n", "source[1].name: required"),
            (
                "[[source]]\nname = \"a\"\npaths = [\"/srv/x\"]\n[[source]]\nname = \"a\"\npaths = [\"/srv/y\"]\n",
                #"source[2].name: two sources are named "a""#
            ),
            (
                "[watch]\npaths = [\"/srv/in\"]\n[[source]]\nname = \"default\"\npaths = [\"/srv/y\"]\n",
                "source[1].name: the top-level [watch] paths already are the source \"default\""
            ),
            (
                "[[source]]\nname = \"a\"\npaths = [\"/srv/x\"]\nid_prefx = \"p/\"\n",
                #"source "a".id_prefx: unknown key (did you mean source "a".id_prefix?"#
            ),
            (
                "[[source]]\nname = \"a\"\npaths = [\"/srv/x\"]\nsettle_ms = \"slow\"\n",
                #"source "a".settle_ms: must be a whole number (got "slow")"#
            ),
            (
                "[[source]]\nname = \"a\"\npaths = [\"/srv/x\"]\non_success = \"move\"\n",
                #"source "a".done_dir: required when on_success = "move""#
            ),
            ("[[source]]\nname = \"a\"\n", #"source "a".paths: required"#),
            (
                "[[source]]\nname = \"a\"\npaths = [\"/srv/x\"]\non_success = \"move\"\ndone_dir = \"/srv/x/done\"\n",
                #"source "a".done_dir: "/srv/x/done" is inside the watched folder "/srv/x""#
            ),
            ("[source]\nname = \"a\"\n", "source: must be an array of tables"),
        ])
    func errors(text: String, expected: String) {
        let message = error(text)
        #expect(message.contains(expected), "\(message)")
        #expect(!message.contains("\n"))
    }

    @Test("path ids: sources sharing an id_prefix share one id space, so their roots carry their names")
    func pathIDsAcrossSources() throws {
        let shared = try parse(
            """
            [images]
            id = "path"
            [watch]
            paths = ["/srv/a"]
            [[source]]
            name = "b"
            paths = ["/srv/b"]
            [[source]]
            name = "c"
            paths = ["/srv/c"]
            id_prefix = "c/"
            """)
        #expect(shared.effective(for: "default")?.images.idRoots == ["/srv/a", "/srv/b"])
        #expect(shared.effective(for: "c")?.images.idRoots == ["/srv/c"])
        let job = Job(
            id: 1, path: RawPath("/srv/b/x.png"), root: RawPath("/srv/b"), state: .queued, attempts: 0, variants: [],
            jobKey: "k", nextAttemptAtMillis: 0, createdAt: "", updatedAt: "")
        #expect(
            ImageIDStrategy.customID(for: job, config: try #require(shared.scoped(to: "b")), sha256: "00") == "b/x.png")
        var cJob = job
        cJob.path = RawPath("/srv/c/x.png")
        cJob.root = RawPath("/srv/c")
        #expect(
            ImageIDStrategy.customID(for: cJob, config: try #require(shared.scoped(to: "c")), sha256: "00") == "c/x.png"
        )

        let message = error(
            """
            [images]
            id = "path"
            [watch]
            paths = ["/srv/one/photos"]
            [[source]]
            name = "b"
            paths = ["/srv/two/photos"]
            """)
        #expect(
            message.contains("have the same name \"photos\"") && message.contains("give each its own"), "\(message)")
    }

    @Test("claim takes only the configured sources' jobs; counts are kept per source")
    func claimAndCounts() throws {
        let db = try TemporaryStore()
        let store = db.store
        try store.enqueue([
            FileCandidate(path: RawPath("/a/1.png"), root: RawPath("/a"), size: 1, mtimeNanos: 1, source: "default"),
            FileCandidate(path: RawPath("/b/1.png"), root: RawPath("/b"), size: 1, mtimeNanos: 1, source: "gone"),
            FileCandidate(path: RawPath("/b/2.png"), root: RawPath("/b"), size: 1, mtimeNanos: 1, source: "gone"),
        ])
        try store.enqueueURLs([try URLInput("https://example.com/a.png")], source: "urls")
        #expect(try store.sourceCounts() == ["default": [.queued: 1], "gone": [.queued: 2], "urls": [.queued: 1]])

        store.setClaimableSources(["default", "urls"])
        let first = try #require(try store.claim(leaseMillis: 60_000))
        let second = try #require(try store.claim(leaseMillis: 60_000))
        #expect(Set([first.source, second.source]) == ["default", "urls"])
        #expect(try store.claim(leaseMillis: 60_000) == nil, "the removed source's jobs stay queued")
        #expect(try store.nextReadyAtMillis() == nil, "and do not wake the workers")
        #expect(try store.sourceCounts()["gone"] == [.queued: 2])
        #expect(try store.sourceCounts()["default"] == [.uploading: 1])

        let counts = SourceCounts(counts: try store.sourceCounts(), configured: ["default", "urls"])
        #expect(counts.unconfigured == ["gone"])
        #expect(counts.waitingUnconfiguredText == #"source "gone": 2 queued, not configured — not uploaded"#)
        #expect(counts.names == ["default", "urls", "gone"])

        store.setClaimableSources(["default", "urls", "gone"])
        #expect(try store.claim(leaseMillis: 60_000)?.source == "gone", "the source returned: its jobs go on")
    }

    /// One configured source is compared directly (a list goes through json_each, a table built per claim):
    /// the same jobs must be taken either way, and a suspect of another source must not hold this one's.
    @Test("one claimable source: only its jobs are taken, and readiness sees only them")
    func oneClaimableSource() throws {
        let db = try TemporaryStore()
        let store = db.store
        try store.enqueue([
            FileCandidate(path: RawPath("/a/1.png"), root: RawPath("/a"), size: 1, mtimeNanos: 1, source: "default"),
            FileCandidate(path: RawPath("/b/1.png"), root: RawPath("/b"), size: 1, mtimeNanos: 1, source: "gone"),
        ])
        store.setClaimableSources(["gone"])
        #expect(try store.nextReadyAtMillis() != nil)
        #expect(try store.claim(leaseMillis: 60_000)?.path == RawPath("/b/1.png"))
        #expect(try store.claim(leaseMillis: 60_000) == nil, "the other source's job stays queued")
        #expect(try store.nextReadyAtMillis() == nil)
        store.setClaimableSources(["de"])
        #expect(try store.claim(leaseMillis: 60_000) == nil, "a name is compared whole, not as a prefix")
        store.setClaimableSources(nil)
        #expect(try store.claim(leaseMillis: 60_000)?.path == RawPath("/a/1.png"), "nil: every source")
    }
}
