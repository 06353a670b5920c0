import ImagedropStore
import ImagedropSystem

/// One way the ledger and the account disagree, with what `--fix` did about it (nil without `--fix`).
public enum LedgerDifference: Sendable {
    /// A done job whose image the account no longer holds.
    case missing(Job, fix: Fix?)
    /// An image with imagedrop's metadata that no done job records; `file` is where its `source_path` was
    /// found under a watch root (nil: nowhere).
    case unrecorded(AccountImage, file: LocatedFile?, fix: Fix?)
    /// A done job whose variants are not the account's.
    case stale(StaleJob, fix: Fix?)

    /// What `--fix` did: `fixed` false leaves the difference in place, `note` says what happened or why not.
    public struct Fix: Sendable, Equatable {
        public var fixed: Bool
        public var note: String
        /// The job a rebuilt image is now recorded in.
        public var jobID: Int64?

        public static func done(_ note: String, jobID: Int64? = nil) -> Fix { Fix(fixed: true, note: note, jobID: jobID) }
        public static func notFixed(_ note: String) -> Fix { Fix(fixed: false, note: note, jobID: nil) }
    }

    public var fix: Fix? {
        switch self {
        case .missing(_, let fix), .unrecorded(_, _, let fix), .stale(_, let fix): fix
        }
    }
}

/// A file named by an image's `source_path`, found under one of a source's watch roots.
public struct LocatedFile: Sendable, Equatable {
    public var source: String
    public var root: RawPath
    public var path: RawPath
}
