import Glibc
import ImagedropStore
import ImagedropSystem
import Synchronization

/// Moves a finished job's file into `done_dir`/`failed_dir` without ever replacing what is there: the first
/// free name of `NAME.EXT`, `NAME.1.EXT`, `NAME.2.EXT`… (free means the name and its companions — the
/// sidecar or `.error.json` that will follow the file's final name — are all absent) is recorded in the
/// job's `moved_to`, committed durably, and only then is the file renamed there with RENAME_NOREPLACE.
///
/// Crash safety: if the original is gone and the recorded name exists, the move happened; if both exist
/// and the recorded one is this file (same inode after a link, or the same size, mtime and sha256 after a
/// cross-device copy), only the original's removal was owed. Either way nothing is moved or copied twice.
package struct DestinationPlacement {
    package let store: JobStore
    package let companions: [[UInt8]]

    /// One name chooser per process: two workers moving two `IMG_0001.JPG` at once must not both pick
    /// `IMG_0001.1.JPG` and record it (the rename would refuse the second, but its row would lie meanwhile).
    private static let lock = Mutex(())
    private static let maximumSuffix = 100_000

    /// Where the file is now, or nil when it is neither at its path nor at a recorded destination.
    package func move(_ job: Job, present: FileStatus?, preferred: RawPath) throws -> RawPath? {
        if let recorded = job.movedTo, NoReplace.isTaken(recorded) {
            guard let present else { return recorded }
            if isSameFile(recorded, as: present, job: job) {
                try removeOriginal(job.path)
                return recorded
            }
        }
        guard let present else { return nil }
        try AtomicFile.makeDirectories(preferred.parent)
        // Another filesystem: copy first (outside the lock; a copy can take a while), then place the copy.
        var copy: Source?
        defer { if case .named(let path) = copy { AtomicFile.unlinkQuietly(path) } }
        if case .success(let folder) = FileStatus.of(preferred.parent), folder.device != present.device {
            copy = try copyForMove(job, present: present, into: preferred.parent)
        }
        while true {
            do {
                let placed = try Self.lock.withLock { _ in
                    try place(
                        copy ?? .named(job.path), job: job, preferred: preferred,
                        regularFile: present.isRegular)
                }
                if copy != nil {
                    try checkUnchanged(job.path, since: present, placed: placed, job: job, copied: true)
                    try removeOriginal(job.path)
                } else {
                    try checkUnchanged(placed, since: present, placed: placed, job: job, copied: false)
                }
                return placed
            } catch let error as SystemError where error.errno == EXDEV && copy == nil {
                // Same device number but still another mount (a bind mount): rename cannot cross it either.
                copy = try copyForMove(job, present: present, into: preferred.parent)
            }
        }
    }

    /// What is placed: the file itself (a rename), or its copy on the destination's filesystem — unnamed
    /// until linked where the system offers O_TMPFILE, else a named temporary.
    package enum Source {
        case named(RawPath)
        case unnamed(AtomicFile.UnnamedFile)
    }

    /// The version check before the move and the rename are two steps: a writer that rewrites the file in
    /// place (O_TRUNC, as cameras and scp do) between them would have its new bytes carried off under the
    /// old version's sidecar, never uploaded (soak seed 23917). So the moved inode (or, for a copy, the
    /// original) is checked again after the move; a file that changed meanwhile goes back where it was (under
    /// the first free name there), where the watcher sees it arrive as the new version it is.
    private func checkUnchanged(
        _ path: RawPath, since before: FileStatus, placed: RawPath, job: Job, copied: Bool
    ) throws {
        guard before.isRegular, case .success(let now) = FileStatus.of(path, followSymlinks: false), now.isRegular,
            now.size != before.size || now.mtimeNanos != before.mtimeNanos
        else { return }
        try? store.recordMoveTarget(id: job.id, path: nil)
        if copied {
            AtomicFile.unlinkQuietly(placed)
            throw AfterUploadActions.LeftInPlace(
                description: "file changed while it was being copied away; left in place for its own job")
        }
        for n in 0...Self.maximumSuffix {
            let back = NoReplace.candidate(job.path, n)
            if try NoReplace.rename(placed, to: back, regularFile: true) {
                throw AfterUploadActions.LeftInPlace(
                    description: "file changed while it was being moved; put back at \(back.display) for its own job")
            }
        }
        throw AfterUploadActions.LeftInPlace(
            description: "file changed while it was being moved; left at \(placed.display)")
    }

    private func copyForMove(_ job: Job, present: FileStatus, into folder: RawPath) throws -> Source {
        // A FIFO or device is never opened (it could block forever); a symlink is not followed out of place.
        guard present.isRegular else {
            throw AfterUploadActions.LeftInPlace(
                description: "not a regular file; cannot be moved to another filesystem, left in place")
        }
        if let unnamed = try AtomicFile.copyUnnamed(job.path, in: folder) { return .unnamed(unnamed) }
        return .named(try AtomicFile.copyToTemporary(job.path, in: folder, tag: "\(job.id)"))
    }

    /// Under the lock: the first free candidate, recorded, then renamed without replacing. A name taken
    /// between the check and the rename (another process) is simply skipped.
    private func place(_ source: Source, job: Job, preferred: RawPath, regularFile: Bool) throws -> RawPath {
        for n in 0...Self.maximumSuffix {
            let candidate = NoReplace.candidate(preferred, n)
            guard !isTaken(candidate) else { continue }
            try store.recordMoveTarget(id: job.id, path: candidate)
            let placed: Bool
            var copied = false
            do {
                switch source {
                case .unnamed(let file):
                    placed = try file.link(to: candidate)
                case .named(let path):
                    do {
                        placed = try NoReplace.rename(path, to: candidate, regularFile: regularFile)
                    } catch is NoReplace.Unsupported {
                        placed = try AtomicFile.copyExclusive(path, to: candidate)
                        copied = true
                    }
                }
            } catch {
                // Not placed (permissions, EXDEV, a full disk): the row must not claim a destination.
                try? store.recordMoveTarget(id: job.id, path: nil)
                throw error
            }
            guard placed else { continue }  // taken since the check (another process): the next name
            if copied, case .named(let path) = source { try removeOriginal(path) }
            return candidate
        }
        throw AfterUploadActions.LeftInPlace(
            description: "no free name for \(preferred.display) after \(Self.maximumSuffix) tries; left in place")
    }

    private func isTaken(_ candidate: RawPath) -> Bool {
        NoReplace.isTaken(candidate) || companions.contains { NoReplace.isTaken(RawPath(bytes: candidate.bytes + $0)) }
    }

    /// Whether `placed` is the job's own file rather than something else that has that name.
    private func isSameFile(_ placed: RawPath, as original: FileStatus, job: Job) -> Bool {
        guard case .success(let there) = FileStatus.of(placed, followSymlinks: false) else { return false }
        if there.device == original.device, there.inode == original.inode { return true }
        guard there.isRegular, original.isRegular, there.size == original.size, there.mtimeNanos == original.mtimeNanos
        else { return false }
        guard let sha256 = job.sha256 else { return true }
        return AtomicFile.sha256(of: placed) == sha256
    }

    private func removeOriginal(_ path: RawPath) throws {
        let rc = path.withCString { unlink($0) }
        if rc != 0, errno != ENOENT { throw SystemError(call: "unlink") }
    }
}
