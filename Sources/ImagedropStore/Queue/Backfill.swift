import Glibc
import ImagedropSystem

/// `imagedrop enqueue PATH...`: queues existing files, or whole folders (recursively, honouring
/// include/exclude), now — for backfills and for files the watcher could not see.
package struct Backfill {
    package struct MissingPath: Error, CustomStringConvertible {
        package let path: String
        package let reason: String
        package var description: String { "\(path): \(reason)" }
    }

    package let config: Config
    /// nil only for a dry run on a database that does not exist yet.
    package let store: JobStore?
    /// The source for paths outside every source's folders (`enqueue --source`); nil: `default`.
    package let fallbackSource: String?

    package init(config: Config, store: JobStore?, source: String? = nil) {
        self.config = config
        self.store = store
        self.fallbackSource = source
    }

    /// The source a path is queued under: the one whose folders hold it, else the `--source` one, else
    /// `default` — nil when that is not configured.
    package func source(for path: RawPath) -> SourceSettings? {
        config.source(containing: path) ?? config.effective(for: fallbackSource ?? SourceSettings.defaultName)
    }

    /// Checks every argument first, so a typo queues nothing rather than half of what was asked.
    package func validate(_ arguments: [String]) throws -> [RawPath] {
        try arguments.map { argument in
            let path = RawPath.absolute(argument)
            guard let source = source(for: path) else {
                throw MissingPath(
                    path: argument,
                    reason: "is outside every source's folders and there is no source \"default\"; "
                        + "name the source with --source NAME")
            }
            let roots = source.watch.paths.map { RawPath($0) }
            // A path id is the path below a watch root: outside every root it could equal another file's id.
            if source.images.idMode == .path, !source.images.requireSignedURLs,
                !roots.contains(where: { path.isInside($0) })
            {
                throw MissingPath(
                    path: argument,
                    reason:
                        "is outside every watch folder of source \"\(source.name)\"; with images.id = \"path\" only files below one can be queued"
                )
            }
            switch FileStatus.of(path) {
            case .success: return path
            case .failure(let error):
                throw MissingPath(path: argument, reason: error.errno == 2 ? "does not exist" : error.message)
            }
        }
    }

    /// Queues the paths; `progress` is told the running count. Returns (found, newly queued). A dry run walks
    /// the same way, asks the table the question the insert asks (read-only), and hands each candidate that
    /// would be a new job to `candidate` instead of queueing it: its `queued` is what the real run's would be.
    package func enqueue(
        _ paths: [RawPath], dryRun: Bool = false, candidate: (RawPath) -> Void = { _ in },
        progress: (Int) -> Void = { _ in }
    ) throws -> (found: Int, queued: Int) {
        var batch: [FileCandidate] = []
        var found = 0
        var queued = 0
        // A path met twice (overlapping arguments) is inserted once by the real run: the second is known.
        var previewed: Set<RawPath> = []
        func flush() throws {
            if dryRun || store == nil {
                let fresh = try store?.wouldInsert(batch) ?? batch.map { _ in true }
                for (file, isNew) in zip(batch, fresh) where isNew && previewed.insert(file.path).inserted {
                    candidate(file.path)
                    queued += 1
                }
                batch.removeAll(keepingCapacity: true)
                progress(found)
                return
            }
            let results = try store!.enqueue(batch)
            queued += results.filter { if case .inserted = $0 { return true } else { return false } }.count
            batch.removeAll(keepingCapacity: true)
            progress(found)
        }
        func add(_ path: RawPath, _ status: FileStatus, source: SourceSettings) throws {
            let root = source.watch.paths.map { RawPath($0) }.first { path.relative(to: $0) != nil }
            batch.append(
                FileCandidate(
                    path: path, root: root, size: status.size, mtimeNanos: status.mtimeNanos,
                    source: source.name))
            found += 1
            if batch.count >= 1000 { try flush() }
        }
        var unreadable: [MissingPath] = []
        func walk(_ directory: RawPath, topLevel: Bool) throws {
            let entries: [DirectoryListing.Entry]
            do {
                entries = try DirectoryListing.entries(of: directory)
            } catch let error as SystemError {
                // A subfolder removed meanwhile is simply not there; one that cannot be read is reported at
                // the end, after everything else was queued (not half a backfill).
                if !topLevel, error.errno == ENOENT { return }
                unreadable.append(MissingPath(path: directory.display, reason: "cannot be read (\(error.message))"))
                return
            }
            for entry in entries {
                let path = directory.appending(entry.name)
                // Each file by its own source's include/exclude (a folder may hold several sources' roots).
                guard let source = source(for: path) else { continue }
                let filter = PathFilter(config: source.watch)
                guard case .success(let status) = FileStatus.candidate(path) else { continue }
                if status.isDirectory {
                    if filter.acceptsDirectory(entry.name) { try walk(path, topLevel: false) }
                } else if filter.acceptsFile(entry.name) {
                    try add(path, status, source: source)
                }
            }
        }
        for path in paths {
            // Arguments are followed if they are symlinks (a configured root may be one); entries below are not.
            guard case .success(let status) = FileStatus.of(path) else {
                throw MissingPath(path: path.display, reason: "vanished")
            }
            if status.isDirectory {
                try walk(path, topLevel: true)
            } else if let source = source(for: path) {
                try add(path, status, source: source)
            }
        }
        try flush()
        if let first = unreadable.first {
            throw MissingPath(
                path: first.path,
                reason: first.reason + (unreadable.count > 1 ? " (and \(unreadable.count - 1) more folders)" : "")
                    + "; everything else was queued")
        }
        return (found, queued)
    }
}
