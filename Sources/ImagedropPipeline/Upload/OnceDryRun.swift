import Glibc
import ImagedropParsing
import ImagedropStore
import ImagedropSystem

/// `run --once --dry-run`: what the run would upload, decided by the run's own rules and nothing sent, nothing
/// written. The jobs already waiting in the table come first (of configured sources: the run takes no others),
/// then the files the run would find new in the drop folders (listed as the watcher's start-up scan lists them,
/// and new by the very decision `enqueue` makes). Each is put through pre-flight and the upload's plan, so
/// the id shown is the id that would be sent, and a file pre-flight refuses says why instead.
package struct OnceDryRun {
    package struct Entry: Sendable, Equatable {
        package enum Verdict: Sendable, Equatable {
            /// Sent with this custom id (nil: Cloudflare chooses it). `size` is nil for a URL job (Cloudflare
            /// fetches the bytes).
            case upload(size: Int?, customID: String?)
            /// A `*.urls` file: its lines become URL jobs (Cloudflare fetches each); the file is not uploaded.
            case urlList(count: Int)
            /// The job would end failed without a request.
            case fail(String)
            /// Not taken now (still being written, or a passing local error): a later run would look again.
            case later(String)
        }

        package var path: String
        /// The job already in the table, or nil for a file the run would find new.
        package var job: Int64?
        package var verdict: Verdict

        package var line: String {
            let origin = job.map { "job \($0)" } ?? "new"
            switch verdict {
            case .upload(let size, let id):
                let what = size.map { "\($0) bytes" } ?? "fetched by Cloudflare"
                return "would upload \(path) (\(what), \(origin)) as \(id ?? "an id Cloudflare chooses")"
            case .urlList(let count):
                return "would queue \(count) URLs from \(path) (\(origin))"
            case .fail(let reason):
                return "would fail \(path) (\(origin)): \(reason)"
            case .later(let reason):
                return "would leave \(path) for later (\(origin)): \(reason)"
            }
        }
    }

    package let config: Config
    /// nil when the database does not exist yet: every file found is new then.
    package let store: JobStore?

    package init(config: Config, store: JobStore?) {
        self.config = config
        self.store = store
    }

    package func entries() throws -> [Entry] {
        let configured = Set(config.sourceNames)
        let waiting = try (store?.waitingJobs() ?? []).filter { configured.contains($0.source) }
        let waitingPaths = Set(waiting.map(\.path))
        let found = scan().filter { !waitingPaths.contains($0.path) }
        let isNew = try store?.wouldInsert(found) ?? found.map { _ in true }
        let fresh = zip(found, isNew).filter(\.1).map { Job.unsaved($0.0) }
        return waiting.map { entry(for: $0, existing: true) } + fresh.map { entry(for: $0, existing: false) }
    }

    /// Every candidate file under the configured roots, by each root's source rules (include/exclude, recursive).
    /// Settling is not waited for: a file still being written is the run's to wait for, and is listed.
    func scan() -> [FileCandidate] {
        let settings = Watcher.settings(from: config)
        var found: [FileCandidate] = []
        func walk(_ directory: RawPath, root: RawPath) {
            guard let entries = try? DirectoryListing.entries(of: directory) else { return }
            let rules = settings[root]
            for entry in entries {
                let path = directory.appending(entry.name)
                var type = entry.type
                if type == UInt8(DT_UNKNOWN), case .success(let status) = FileStatus.of(path, followSymlinks: false) {
                    type = status.isDirectory ? UInt8(DT_DIR) : UInt8(DT_REG)
                }
                if type == UInt8(DT_DIR) {
                    if rules.recursive, rules.filter.acceptsDirectory(entry.name) { walk(path, root: root) }
                } else if rules.filter.acceptsFile(entry.name), case .success(let status) = FileStatus.candidate(path) {
                    found.append(
                        FileCandidate(
                            path: path, root: root, size: status.size, mtimeNanos: status.mtimeNanos,
                            source: rules.source))
                }
            }
        }
        for root in settings.roots { walk(root, root: root) }
        return found
    }

    private func entry(for job: Job, existing: Bool) -> Entry {
        let id = existing ? job.id : nil
        let path = job.path.display
        guard let scoped = config.scoped(to: job.source) else {
            return Entry(path: path, job: id, verdict: .later("source \"\(job.source)\" is not configured"))
        }
        if job.kind == .url {
            guard let url = job.urlInput else { return Entry(path: path, job: id, verdict: .fail("not a valid URL")) }
            return Entry(
                path: path, job: id,
                verdict: .upload(size: nil, customID: ImageIDStrategy.customID(forURL: url, config: scoped)))
        }
        if URLList.isListName(job.path.baseName) {
            switch URLListFile.read(job.path) {
            case .rejected(let reason): return Entry(path: path, job: id, verdict: .fail(reason))
            case .unavailable(let reason): return Entry(path: path, job: id, verdict: .later(reason))
            case .changing: return Entry(path: path, job: id, verdict: .later("still being written"))
            case .ready(let text, _, _):
                do {
                    return Entry(path: path, job: id, verdict: .urlList(count: try URLList.parse(text).count))
                } catch {
                    return Entry(path: path, job: id, verdict: .fail("\(error)"))
                }
            }
        }
        switch FileInspector.inspect(
            path: job.path, root: job.root, followSymlinksOutside: scoped.watch.followSymlinksOutside)
        {
        case .rejected(let reason):
            return Entry(path: path, job: id, verdict: .fail(reason))
        case .unavailable(let reason):
            return Entry(path: path, job: id, verdict: .later(reason))
        case .changing:
            return Entry(path: path, job: id, verdict: .later("still being written"))
        case .ready(let file):
            switch UploadPlan.make(job: job, file: .init(hashedOrPending: file.sha256), settings: .init(scoped)) {
            case .fail(let reason):
                return Entry(path: path, job: id, verdict: .fail(reason))
            case .upload(let plan):
                return Entry(path: path, job: id, verdict: .upload(size: file.status.size, customID: plan.customID))
            }
        }
    }
}
