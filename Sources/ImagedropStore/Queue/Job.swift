import ImagedropParsing
import ImagedropSystem

/// The five states of the contract (DESIGN.md). Their raw values are what the `state` column holds.
package enum JobState: String, Sendable, CaseIterable, Codable {
    case queued, uploading, retrying, done, failed

    package var isFinished: Bool { self == .done || self == .failed }
}

/// One version of one file, as a row of the `jobs` table.
package struct Job: Sendable, Equatable {
    package var id: Int64
    package var path: RawPath
    package var root: RawPath?
    package var state: JobState
    package var attempts: Int
    package var lastError: String?
    package var lastCode: Int?
    package var imageID: String?
    package var variants: [String]
    package var size: Int?
    package var mtimeNanos: Int64?
    package var sha256: String?
    package var jobKey: String
    package var nextAttemptAtMillis: Int64
    package var createdAt: String
    package var updatedAt: String
    package var uploadedAt: String?
    package var afterAction: String?
    /// Upload requests that may have reached the API, including ones cut short (see Schema v2).
    package var sends: Int = 0
    /// Where the after-upload action moved the file (`done_dir`/`failed_dir`, with a suffix when the name was
    /// taken), recorded before the move so a replay after a crash knows which file is this job's.
    package var movedTo: RawPath? = nil
    /// `file`, or `url` for an image Cloudflare fetches from `url` (which then holds the URL as given).
    package var kind: JobKind = .file
    package var url: String? = nil
    /// The source whose rules the job follows (`SourceSettings`); `default` for the top-level watch paths.
    package var source: String = SourceSettings.defaultName
    /// A failed job the operator acknowledged (`imagedrop dismiss`): out of the failed counts and the failure
    /// lists, still in `list --state failed --all`. Only ever true for a failed job.
    package var dismissed = false

    /// The URL of a URL job, checked again (the table is a public interface; a hand-edited row must not
    /// reach the API unchecked).
    package var urlInput: URLInput? { url.flatMap { try? URLInput($0) } }
}

extension Job {
    /// The job `enqueue` would insert for a candidate, before it has an id or a key: what `run --once --dry-run`
    /// hands to the upload's own planning for a file the run would find new.
    package static func unsaved(_ candidate: FileCandidate) -> Job {
        Job(
            id: 0, path: candidate.path, root: candidate.root, state: .queued, attempts: 0, lastError: nil,
            lastCode: nil,
            imageID: nil, variants: [], size: candidate.size, mtimeNanos: candidate.mtimeNanos, sha256: nil, jobKey: "",
            nextAttemptAtMillis: 0, createdAt: "", updatedAt: "", uploadedAt: nil, afterAction: nil,
            source: candidate.source)
    }
}

package enum JobKind: String, Sendable, Equatable {
    case file, url
}

/// What the watcher or `enqueue` saw of a file: enough to tell one version from the next.
package struct FileCandidate: Sendable, Equatable {
    package var path: RawPath
    package var root: RawPath?
    package var size: Int
    package var mtimeNanos: Int64
    /// The source whose folder it was found in (or that `enqueue` was told).
    package var source: String

    package init(
        path: RawPath, root: RawPath?, size: Int, mtimeNanos: Int64, source: String = SourceSettings.defaultName
    ) {
        self.path = path
        self.root = root
        self.size = size
        self.mtimeNanos = mtimeNanos
        self.source = source
    }
}

package enum EnqueueResult: Sendable, Equatable {
    case inserted(Int64)
    /// An unfinished job for the path now tracks this newer version.
    case updated(Int64)
    /// This exact version already has a job (done, failed, or waiting): nothing to do.
    case known(Int64)
    /// This exact version was uploaded and its done job later pruned (`stored_versions`): nothing to do.
    case alreadyStored
}
