import ImagedropParsing
import ImagedropSystem
/// The five states of the contract (DESIGN.md). Their raw values are what the `state` column holds.
public enum JobState: String, Sendable, CaseIterable, Codable {
    case queued, uploading, retrying, done, failed

    public var isFinished: Bool { self == .done || self == .failed }
}

/// One version of one file, as a row of the `jobs` table.
public struct Job: Sendable, Equatable {
    public var id: Int64
    public var path: RawPath
    public var root: RawPath?
    public var state: JobState
    public var attempts: Int
    public var lastError: String?
    public var lastCode: Int?
    public var imageID: String?
    public var variants: [String]
    public var size: Int?
    public var mtimeNanos: Int64?
    public var sha256: String?
    public var jobKey: String
    public var nextAttemptAtMillis: Int64
    public var createdAt: String
    public var updatedAt: String
    public var uploadedAt: String?
    public var afterAction: String?
    /// Upload requests that may have reached the API, including ones cut short (see Schema v2).
    public var sends: Int = 0
    /// Where the after-upload action moved the file (`done_dir`/`failed_dir`, with a suffix when the name was
    /// taken), recorded before the move so a replay after a crash knows which file is this job's.
    public var movedTo: RawPath? = nil
    /// `file`, or `url` for an image Cloudflare fetches from `url` (which then holds the URL as given).
    public var kind: JobKind = .file
    public var url: String? = nil
    /// The source whose rules the job follows (`SourceSettings`); `default` for the top-level watch paths.
    public var source: String = SourceSettings.defaultName
    /// A failed job the operator acknowledged (`imagedrop dismiss`): out of the failed counts and the failure
    /// lists, still in `list --state failed --all`. Only ever true for a failed job.
    public var dismissed = false

    /// The URL of a URL job, checked again (the table is a public interface; a hand-edited row must not
    /// reach the API unchecked).
    public var urlInput: URLInput? { url.flatMap { try? URLInput($0) } }
}

extension Job {
    /// The job `enqueue` would insert for a candidate, before it has an id or a key: what `run --once --dry-run`
    /// hands to the upload's own planning for a file the run would find new.
    public static func unsaved(_ candidate: FileCandidate) -> Job {
        Job(id: 0, path: candidate.path, root: candidate.root, state: .queued, attempts: 0, lastError: nil, lastCode: nil,
            imageID: nil, variants: [], size: candidate.size, mtimeNanos: candidate.mtimeNanos, sha256: nil, jobKey: "",
            nextAttemptAtMillis: 0, createdAt: "", updatedAt: "", uploadedAt: nil, afterAction: nil, source: candidate.source)
    }
}

public enum JobKind: String, Sendable, Equatable {
    case file, url
}

/// What the watcher or `enqueue` saw of a file: enough to tell one version from the next.
public struct FileCandidate: Sendable, Equatable {
    public var path: RawPath
    public var root: RawPath?
    public var size: Int
    public var mtimeNanos: Int64
    /// The source whose folder it was found in (or that `enqueue` was told).
    public var source: String

    public init(path: RawPath, root: RawPath?, size: Int, mtimeNanos: Int64, source: String = SourceSettings.defaultName) {
        self.path = path
        self.root = root
        self.size = size
        self.mtimeNanos = mtimeNanos
        self.source = source
    }
}

public enum EnqueueResult: Sendable, Equatable {
    case inserted(Int64)
    /// An unfinished job for the path now tracks this newer version.
    case updated(Int64)
    /// This exact version already has a job (done, failed, or waiting): nothing to do.
    case known(Int64)
    /// This exact version was uploaded and its done job later pruned (`stored_versions`): nothing to do.
    case alreadyStored
}
