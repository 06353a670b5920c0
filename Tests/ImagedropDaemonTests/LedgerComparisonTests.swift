import Foundation
import ImagedropStoreTestSupport
import ImagedropSupport
import ImagedropTestSupport
import Testing

@testable import ImagedropDaemon
@testable import ImagedropStore
@testable import ImagedropSystem

/// The join behind `reconcile` on a real table: which rows are missing, unrecorded or stale, what a rebuilt row
/// holds, and that rebuilding one never leaves a `done` webhook in the outbox.
@Suite("Ledger and account comparison", .serialized)
struct LedgerComparisonTests {
    /// Three done jobs (images a, b, c; source `default`) and one of source `other` (image d).
    static func store(_ temp: TemporaryFolder) throws -> JobStore {
        let store = try JobStore(path: temp.database)
        for (index, name) in ["a", "b", "c", "d"].enumerated() {
            let candidate = FileCandidate(
                path: RawPath("/drop/\(name).png"), root: RawPath("/drop"), size: 10 + index,
                mtimeNanos: 1_000, source: name == "d" ? "other" : "default")
            guard case .inserted(let id) = try store.enqueue([candidate]).first else { throw FixtureError("enqueue") }
            try store.markDone(
                id: id, imageID: "img-\(name)", variants: ["https://x/\(name)/public", "https://x/\(name)/thumb"],
                sha256: String(repeating: name, count: 64), countAttempt: true, afterAction: nil)
        }
        return store
    }

    static func image(_ name: String, variants: [String]? = nil, imagedrops: Bool = true) -> AccountImage {
        AccountImage(
            id: "img-\(name)", variants: variants ?? ["https://x/\(name)/thumb", "https://x/\(name)/public"],
            sha256: imagedrops ? String(repeating: name, count: 64) : nil,
            sourcePath: imagedrops ? "\(name).png" : nil, jobKey: nil, uploaded: "2026-01-01T00:00:00.000Z")
    }

    @Test(
        "missing, unrecorded and stale: variants compared in any order, foreign images ignored, --source scoping the jobs"
    )
    func differences() throws {
        let temp = try TemporaryFolder("imagedrop-store")
        let store = try Self.store(temp)
        #expect(try store.beginReconcile(source: nil) == 4)
        // a: same variants in another order; b: deleted; c: other variants; d: present; e: imagedrop's, no job; f: foreign.
        try store.addAccountImages([
            Self.image("a"), Self.image("c", variants: ["https://x/c/public"]), Self.image("d"),
        ])
        try store.addAccountImages([Self.image("e"), Self.image("f", imagedrops: false)])
        #expect(try store.accountImageCount() == 5)
        #expect(try store.missingJobs(after: 0, limit: 10).map(\.imageID) == ["img-b"])
        #expect(try store.unrecordedImages(after: nil, limit: 10).map(\.id) == ["img-e"])
        let stale = try store.staleJobs(after: 0, limit: 10)
        #expect(stale.map(\.job.imageID) == ["img-c"] && stale.first?.accountVariants == ["https://x/c/public"])
        // Paged by key: one row at a time reaches the same rows.
        #expect(
            try store.missingJobs(after: try #require(store.missingJobs(after: 0, limit: 1).first?.id), limit: 1)
                .isEmpty)

        #expect(try store.beginReconcile(source: "other") == 1)
        try store.addAccountImages([Self.image("a")])
        #expect(try store.missingJobs(after: 0, limit: 10).map(\.imageID) == ["img-d"], "only the source's jobs")
    }

    @Test("a job done while the account was read is neither missing nor its image unrecorded")
    func doneWhileListing() throws {
        let temp = try TemporaryFolder("imagedrop-store")
        let store = try Self.store(temp)
        let since = Timestamp.iso8601(millis: Timestamp.nowMillis() - 1_000)
        _ = try store.beginReconcile(source: nil)
        let late = FileCandidate(path: RawPath("/drop/g.png"), root: RawPath("/drop"), size: 99, mtimeNanos: 5)
        guard case .inserted(let id) = try store.enqueue([late]).first else { throw FixtureError("enqueue") }
        try store.markDone(id: id, imageID: "img-g", variants: [], sha256: nil, countAttempt: true, afterAction: nil)
        try store.addAccountImages(["a", "b", "c", "d"].map { Self.image($0) } + [Self.image("g")])
        try store.addJobsDone(since: since, source: nil)
        #expect(try store.unrecordedImages(after: nil, limit: 10).isEmpty)
        #expect(try store.missingJobs(after: 0, limit: 10).isEmpty)
    }

    @Test(
        "a rebuilt row is done with the image's id, variants and job key, known to the next scan, and sends no webhook")
    func rebuiltRow() throws {
        let temp = try TemporaryStore()
        let store = temp.store
        try store.configureWebhookEvents([.done, .failed])
        var image = Self.image("h")
        image.jobKey = "0123456789abcdef0123456789abcdef"
        let rebuilt = JobStore.RebuiltJob(
            path: RawPath("/drop/h.png"), root: RawPath("/drop"), source: "default",
            size: 42, mtimeNanos: 7, sha256: image.sha256!, image: image)
        guard case .inserted(let id) = try store.recordRebuilt(rebuilt) else {
            Issue.record("not inserted")
            return
        }
        let job = try #require(try store.job(id: id))
        #expect(
            job.state == .done && job.imageID == "img-h" && job.variants == image.variants && job.jobKey == image.jobKey
                && job.size == 42 && job.mtimeNanos == 7 && job.uploadedAt == image.uploaded
                && job.root == RawPath("/drop"))
        #expect(try store.webhookBacklog()?.pending == 0, "the upload was announced when it happened")
        let again = FileCandidate(path: RawPath("/drop/h.png"), root: RawPath("/drop"), size: 42, mtimeNanos: 7)
        #expect(try store.enqueue([again]) == [.known(id)], "the rescan finds the file known")
        #expect(try store.recordRebuilt(rebuilt) == .alreadyRecorded(id, .done))

        // A waiting job of the same file (the daemon rescanned first) is completed instead of duplicated.
        let waiting = FileCandidate(path: RawPath("/drop/i.png"), root: RawPath("/drop"), size: 5, mtimeNanos: 9)
        guard case .inserted(let waitingID) = try store.enqueue([waiting]).first else { throw FixtureError("enqueue") }
        var other = rebuilt
        other.path = RawPath("/drop/i.png")
        other.size = 5
        other.mtimeNanos = 9
        #expect(try store.recordRebuilt(other) == .completedWaiting(waitingID))
        #expect(try store.job(id: waitingID)?.state == .done)
        #expect(try store.webhookBacklog()?.pending == 0)
    }

    @Test("source_path as a path below a root: shortened, escaping or empty names are refused")
    func sourcePaths() {
        #expect(WatchRootLocator.relativePath("a/b.png") == "a/b.png")
        #expect(WatchRootLocator.relativePath("/a.png") == "a.png")
        for bad in ["", "…/long/name.png", "../etc/passwd", "a/../../b.png", "a//b.png", "./a.png"] {
            #expect(WatchRootLocator.relativePath(bad) == nil, "\(bad)")
        }
    }
}

struct FixtureError: Error {
    let description: String
    init(_ description: String) { self.description = description }
}
