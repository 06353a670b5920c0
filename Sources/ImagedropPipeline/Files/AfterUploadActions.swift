import Glibc
import ImagedropParsing
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import Logging

/// What happens to a file once its job is finished (`[after_upload]`): keep, delete or move it, and an
/// optional sidecar. Runs only after the job's result is committed; the row's `after_action` marks the
/// action as owed until it is done, so a daemon that dies in between replays it at the next start.
/// Every step is safe to repeat: a move records its destination (`moved_to`) before it renames, so a
/// replay finds the file it already moved instead of moving or copying it again; nothing already in
/// `done_dir`/`failed_dir` is ever replaced (see `DestinationPlacement`).
package struct AfterUploadActions: Sendable {
    package let store: JobStore
    package let logger: Logger

    package init(store: JobStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// The marker stored with the result, or nil when nothing is to be done (keep, no sidecar).
    package static func pendingAction(success: Bool, config: Config) -> String? {
        if success {
            return config.afterUpload.onSuccess == .keep && !config.afterUpload.sidecar ? nil : "success"
        }
        return config.afterUpload.onFailure == .keep ? nil : "failure"
    }

    /// Replays every owed action, and voids the leases on owed deletes of a daemon that died (at start-up).
    package func replayPending(config: Config) {
        if let recovered = try? store.recoverOwedDeletes(), recovered > 0 {
            logger.notice("owed image deletes will be sent again", metadata: ["count": "\(recovered)"])
        }
        while let batch = try? store.pendingAfterActions(limit: 200), !batch.isEmpty {
            let done = batch.filter { run($0, config: config) }.count
            // Actions of a source that is not configured stay owed: without progress, stop here.
            if batch.count < 200 || done == 0 { break }
        }
    }

    /// Carries out the job's owed action by its own source's `[after_upload]`; false (the action stays owed)
    /// when that source is not configured.
    @discardableResult
    package func run(_ job: Job, config given: Config) -> Bool {
        guard let action = job.afterAction else { return true }
        guard let config = given.scoped(to: job.source) else {
            logger.warning(
                "after-upload action waits: the job's source is not configured",
                metadata: ["job": "\(job.id)", "source": "\(job.source)"])
            return false
        }
        var note: String?
        do {
            if action == "success" { try succeed(job, config: config) } else { try failFile(job, config: config) }
        } catch {
            note = "after-upload action failed: \(error)"
            logger.warning(
                "after-upload action failed",
                metadata: ["job": "\(job.id)", "path": "\(job.path)", "error": "\(error)"])
        }
        do { try store.clearAfterAction(id: job.id, note: job.state == .failed ? nil : note) } catch {
            logger.error("could not record after-upload action", metadata: ["job": "\(job.id)", "error": "\(error)"])
        }
        return true
    }

    package struct LeftInPlace: Error, CustomStringConvertible {
        package let description: String
    }

    /// Delete and move act only on the version the job is about: a file rewritten since (or replayed long
    /// after a crash) is a new version that has not been uploaded, and must not be deleted or moved away.
    private func checkSameVersion(_ job: Job) throws -> FileStatus? {
        guard case .success(let now) = FileStatus.of(job.path, followSymlinks: false) else { return nil }
        if let size = job.size, let mtime = job.mtimeNanos, now.isRegular, now.size != size || now.mtimeNanos != mtime {
            throw LeftInPlace(description: "file changed after it was uploaded; left in place for its own job")
        }
        return now
    }

    private static let sidecarSuffix = Array(".imagedrop.json".utf8)
    private static let errorReportSuffix = Array(".error.json".utf8)

    private func succeed(_ job: Job, config: Config) throws {
        let present = try checkSameVersion(job)
        switch config.afterUpload.onSuccess {
        case .keep:
            guard present != nil else { return }
            // Beside the original in the drop folder: a newer upload of the same file rewrites its sidecar.
            if config.afterUpload.sidecar { try writeSidecar(for: job, beside: job.path, replacing: true) }
        case .delete:
            try removeIfPresent(job.path)
        case .move:
            guard let doneDir = config.afterUpload.doneDir else { return }
            let placement = DestinationPlacement(
                store: store, companions: config.afterUpload.sidecar ? [Self.sidecarSuffix] : [])
            guard
                let finalPath = try placement.move(
                    job, present: present, preferred: destination(for: job, in: RawPath(doneDir)))
            else { return }  // neither here nor moved: gone, nothing to write beside
            if finalPath != job.movedTo {
                logger.info("file moved", metadata: ["job": "\(job.id)", "path": "\(job.path)", "to": "\(finalPath)"])
            }
            if config.afterUpload.sidecar { try writeSidecar(for: job, beside: finalPath, replacing: false) }
        }
    }

    private func failFile(_ job: Job, config: Config) throws {
        guard config.afterUpload.onFailure == .move, let failedDir = config.afterUpload.failedDir else { return }
        let present = try checkSameVersion(job)
        let placement = DestinationPlacement(store: store, companions: [Self.errorReportSuffix])
        guard
            let target = try placement.move(
                job, present: present, preferred: destination(for: job, in: RawPath(failedDir)))
        else { return }  // vanished (the usual reason it failed): nothing to move or report beside
        let report: [String: Any] = [
            "job": job.id, "path": job.path.display, "moved_to": target.display, "error": job.lastError ?? "",
            "code": job.lastCode as Any? ?? JSONNull(), "attempts": job.attempts, "failed_at": job.updatedAt,
        ]
        try writeOwnJSON(
            report, to: RawPath(bytes: target.bytes + Self.errorReportSuffix), jobID: job.id, replacing: false)
    }

    /// `done_dir` + the path relative to the watch root, so folder structure survives the move.
    package func destination(for job: Job, in directory: RawPath) -> RawPath {
        if let root = job.root, let relative = job.path.relative(to: root) {
            return directory.appending(relative.bytes)
        }
        return directory.appending(job.path.baseName)
    }

    private func writeSidecar(for job: Job, beside path: RawPath, replacing: Bool) throws {
        guard let fresh = try store.job(id: job.id) else { return }
        let sidecar: [String: Any] = [
            "id": fresh.imageID ?? "", "variants": fresh.variants, "sha256": fresh.sha256 ?? "",
            "uploaded_at": fresh.uploadedAt ?? "", "path": path.display, "job": fresh.id,
        ]
        try writeOwnJSON(
            sidecar, to: RawPath(bytes: path.bytes + Self.sidecarSuffix), jobID: job.id, replacing: replacing)
    }

    /// Writes a JSON file that names its job. Unless `replacing`, an existing file is left alone: if it is
    /// this job's (written before a crash), the step is done; if not, it is someone else's and an error.
    private func writeOwnJSON(_ object: [String: Any], to path: RawPath, jobID: Int64, replacing: Bool) throws {
        let data = Array(try JSONWriter.string(object, options: [.sortedKeys, .prettyPrinted]).utf8)
        if replacing {
            try AtomicFile.write(Array(data) + [10], to: path)
            return
        }
        if try AtomicFile.writeNew(Array(data) + [10], to: path) { return }
        guard AtomicFile.read(path, limit: 1 << 20).flatMap(SidecarFile.jobID) == jobID else {
            throw LeftInPlace(description: "\(path.display) already exists and is not this job's; not replaced")
        }
    }

    private func removeIfPresent(_ path: RawPath) throws {
        let rc = path.withCString { unlink($0) }
        if rc != 0, errno != ENOENT { throw SystemError(call: "unlink") }
    }
}
