import Foundation
import Glibc
import ImagedropSupport
import Logging

/// What happens to a file once its job is finished (`[after_upload]`): keep, delete or move it, and an
/// optional sidecar. Runs only after the job's result is committed; the row's `after_action` marks the
/// action as owed until it is done, so a daemon that dies in between replays it at the next start.
/// Every step is safe to repeat (a moved file is not moved twice, a sidecar is rewritten whole).
public struct AfterUploadActions: Sendable {
    let store: JobStore
    let logger: Logger

    public init(store: JobStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// The marker stored with the result, or nil when nothing is to be done (keep, no sidecar).
    public static func pendingAction(success: Bool, config: Config) -> String? {
        if success {
            return config.afterUpload.onSuccess == .keep && !config.afterUpload.sidecar ? nil : "success"
        }
        return config.afterUpload.onFailure == .keep ? nil : "failure"
    }

    /// Replays every owed action (at start-up).
    public func replayPending(config: Config) {
        while let batch = try? store.pendingAfterActions(limit: 200), !batch.isEmpty {
            for job in batch { run(job, config: config) }
            if batch.count < 200 { break }
        }
    }

    public func run(_ job: Job, config: Config) {
        guard let action = job.afterAction else { return }
        var note: String?
        do {
            if action == "success" { try succeed(job, config: config) } else { try failFile(job, config: config) }
        } catch {
            note = "after-upload action failed: \(error)"
            logger.warning("after-upload action failed", metadata: ["job": "\(job.id)", "path": "\(job.path)", "error": "\(error)"])
        }
        do { try store.clearAfterAction(id: job.id, note: job.state == .failed ? nil : note) } catch {
            logger.error("could not record after-upload action", metadata: ["job": "\(job.id)", "error": "\(error)"])
        }
    }

    struct LeftInPlace: Error, CustomStringConvertible {
        let description: String
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

    private func succeed(_ job: Job, config: Config) throws {
        var finalPath = job.path
        let present = try checkSameVersion(job) != nil
        switch config.afterUpload.onSuccess {
        case .keep:
            guard present else { return }
        case .delete:
            try removeIfPresent(job.path)
            return
        case .move:
            guard let doneDir = config.afterUpload.doneDir else { break }
            finalPath = destination(for: job, in: RawPath(doneDir))
            if present {
                try move(job.path, to: finalPath)
            } else if case .failure = FileStatus.of(finalPath, followSymlinks: false) {
                return   // neither here nor moved: gone, nothing to write beside
            }   // else moved before a crash: the sidecar below is what is still owed
        }
        if config.afterUpload.sidecar {
            try writeSidecar(for: job, beside: finalPath)
        }
    }

    private func failFile(_ job: Job, config: Config) throws {
        guard config.afterUpload.onFailure == .move, let failedDir = config.afterUpload.failedDir else { return }
        let target = destination(for: job, in: RawPath(failedDir))
        if try checkSameVersion(job) != nil {
            try move(job.path, to: target)
        } else if case .failure = FileStatus.of(target, followSymlinks: false) {
            return   // vanished (the usual reason it failed): nothing to move or report beside
        }   // else moved before a crash: the report below is what is still owed
        let report: [String: Any] = [
            "job": job.id, "path": job.path.display, "error": job.lastError ?? "", "code": job.lastCode as Any? ?? NSNull(),
            "attempts": job.attempts, "failed_at": job.updatedAt,
        ]
        let errorFile = target.parent.appending(Array(String(decoding: target.baseName, as: UTF8.self).utf8) + Array(".error.json".utf8))
        try writeJSON(report, to: errorFile)
    }

    /// `done_dir` + the path relative to the watch root, so folder structure survives the move.
    func destination(for job: Job, in directory: RawPath) -> RawPath {
        if let root = job.root, let relative = job.path.relative(to: root) { return directory.appending(relative.bytes) }
        return directory.appending(job.path.baseName)
    }

    private func writeSidecar(for job: Job, beside path: RawPath) throws {
        guard let fresh = try store.job(id: job.id) else { return }
        let sidecar: [String: Any] = [
            "id": fresh.imageID ?? "", "variants": fresh.variants, "sha256": fresh.sha256 ?? "",
            "uploaded_at": fresh.uploadedAt ?? "", "path": path.display, "job": fresh.id,
        ]
        try writeJSON(sidecar, to: RawPath(bytes: path.bytes + Array(".imagedrop.json".utf8)))
    }

    private func writeJSON(_ object: [String: Any], to path: RawPath) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        try AtomicFile.write(Array(data) + [10], to: path)
    }

    private func removeIfPresent(_ path: RawPath) throws {
        let rc = path.withCString { unlink($0) }
        if rc != 0, errno != ENOENT { throw SystemError(call: "unlink") }
    }

    private func move(_ source: RawPath, to target: RawPath) throws {
        try AtomicFile.makeDirectories(target.parent)
        let rc = source.withCString { from in target.withCString { to in rename(from, to) } }
        if rc == 0 { return }
        let error = SystemError(call: "rename")
        if error.errno == ENOENT, case .success = FileStatus.of(target) { return }   // moved before a crash: done
        guard error.errno == EXDEV else { throw error }
        // Another filesystem: stream a copy to a temporary name, rename it into place, then remove the
        // original. Only regular files: a FIFO or device is never opened (it could block forever).
        guard case .success(let status) = FileStatus.of(source, followSymlinks: false), status.isRegular else {
            throw LeftInPlace(description: "not a regular file; cannot be moved to another filesystem, left in place")
        }
        try AtomicFile.copy(source, to: target)
        try removeIfPresent(source)
    }
}

/// Writes that are either complete or absent: a temporary file in the same folder, fsync, rename.
enum AtomicFile {
    static func write(_ bytes: [UInt8], to path: RawPath) throws {
        try replace(path) { output in
            try bytes.withUnsafeBytes { try writeAll(output, $0.baseAddress!, $0.count) }
        }
    }

    /// Streams `source` into `target` (64 KiB at a time), complete or not at all.
    static func copy(_ source: RawPath, to target: RawPath) throws {
        let input = source.withCString { open($0, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC) }
        guard input >= 0 else { throw SystemError(call: "open") }
        defer { close(input) }
        try replace(target) { output in
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let got = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
                if got < 0, errno == EINTR { continue }
                if got < 0 { throw SystemError(call: "read") }
                if got == 0 { return }
                try buffer.withUnsafeBytes { try writeAll(output, $0.baseAddress!, got) }
            }
        }
    }

    /// Fills a temporary file beside `target` with `fill`, then renames it into place. Write errors on NFS or
    /// a full disk may only show at fsync or close, so both are checked before the rename; on any failure the
    /// temporary file is removed and `target` is left as it was.
    private static func replace(_ target: RawPath, fill: (Int32) throws -> Void) throws {
        try makeDirectories(target.parent)
        let temporary = RawPath(bytes: target.bytes + Array(".imagedrop-tmp-\(getpid())".utf8))
        let output = temporary.withCString { open($0, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
        guard output >= 0 else { throw SystemError(call: "open") }
        do {
            do {
                try fill(output)
            } catch {
                close(output)
                throw error
            }
            let synced = fsync(output) == 0
            let closed = close(output) == 0
            guard synced, closed else { throw SystemError(call: synced ? "close" : "fsync") }
            let renamed = temporary.withCString { from in target.withCString { to in rename(from, to) } }
            guard renamed == 0 else { throw SystemError(call: "rename") }
        } catch {
            temporary.withCString { _ = unlink($0) }
            throw error
        }
    }

    private static func writeAll(_ fd: Int32, _ base: UnsafeRawPointer, _ count: Int) throws {
        var written = 0
        while written < count {
            let n = Glibc.write(fd, base + written, count - written)
            if n < 0, errno == EINTR { continue }
            if n < 0 { throw SystemError(call: "write") }
            written += n
        }
    }

    static func makeDirectories(_ path: RawPath) throws {
        if case .success(let status) = FileStatus.of(path), status.isDirectory { return }
        if path.bytes.count > 1 { try makeDirectories(path.parent) }
        let rc = path.withCString { mkdir($0, 0o755) }
        if rc != 0, errno != EEXIST { throw SystemError(call: "mkdir") }
    }
}
