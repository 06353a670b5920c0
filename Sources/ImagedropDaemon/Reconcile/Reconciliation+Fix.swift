import ImagedropPipeline
import ImagedropStore
import ImagedropSystem

/// `--fix`, one difference at a time, each through the job table's own transitions and in its own short
/// transaction (SQLite's busy timeout waits for the daemon's writes, as every other command does).
extension Reconciliation {
    /// A missing image's file, still at its path with the bytes the job uploaded, goes back to the queue the
    /// way `retry --force` puts it there: the next upload stores it again (with a Cloudflare-chosen id, the
    /// job key finds nothing and the upload goes ahead), and its `done` is announced like any other.
    func requeue(_ job: Job) throws -> LedgerDifference.Fix {
        guard job.kind == .file else {
            return .notFixed("a URL job: `imagedrop retry --force \(job.id)` has Cloudflare fetch it again")
        }
        guard let expected = job.sha256 else { return .notFixed("the job has no SHA-256 to compare the file with") }
        guard let digest = FileDigest.of(job.path) else { return .notFixed("no readable file at its path any more") }
        guard digest.sha256 == expected else { return .notFixed("the file's bytes changed since it was uploaded") }
        let result = try store.retryFailed(ids: [job.id], includeDone: true)
        if result.queued.contains(job.id) { return .done("queued again") }
        if result.superseded.contains(job.id) { return .notFixed("a newer job of the same file carries it now") }
        return .notFixed("the job changed while reconcile ran")
    }

    /// An unrecorded image whose file is found at its watch root with the image's SHA-256 gets a done job and
    /// no upload: the ledger is rebuilt from the account and the drop folders.
    func rebuild(_ image: AccountImage, from files: [LocatedFile]) throws -> LedgerDifference.Fix {
        guard !files.isEmpty else { return .notFixed("its source_path names no file under the watch roots") }
        for file in files {
            guard let digest = FileDigest.of(file.path), digest.sha256 == image.sha256 else { continue }
            let rebuilt = JobStore.RebuiltJob(
                path: file.path, root: file.root, source: file.source,
                size: digest.status.size, mtimeNanos: digest.status.mtimeNanos,
                sha256: digest.sha256, image: image)
            switch try store.recordRebuilt(rebuilt) {
            case .inserted(let id): return .done("recorded as job \(id)", jobID: id)
            case .completedWaiting(let id): return .done("its waiting job \(id) recorded done", jobID: id)
            case .alreadyRecorded(let id, let state):
                return .notFixed("the file already has job \(id) (\(state.rawValue)) with another image")
            }
        }
        return .notFixed("the file at its source_path no longer holds the image's bytes")
    }

    func refresh(_ stale: StaleJob) throws -> LedgerDifference.Fix {
        guard let imageID = stale.job.imageID,
            try store.refreshVariants(jobID: stale.job.id, imageID: imageID, variants: stale.accountVariants)
        else { return .notFixed("the job changed while reconcile ran") }
        return .done("variants refreshed")
    }
}
