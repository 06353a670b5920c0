import ImagedropStore
import ImagedropSystem

/// One way the ledger and the account disagree, with what `--fix` did about it (nil without `--fix`).
package enum LedgerDifference: Sendable {
    /// A done job whose image the account no longer holds.
    case missing(Job, fix: Fix?)
    /// An image with imagedrop's metadata that no done job records; `file` is where its `source_path` was
    /// found under a watch root (nil: nowhere).
    case unrecorded(AccountImage, file: LocatedFile?, fix: Fix?)
    /// A done job whose variants are not the account's.
    case stale(StaleJob, fix: Fix?)

    /// What `--fix` did: `fixed` false leaves the difference in place, `note` says what happened or why not.
    package struct Fix: Sendable, Equatable {
        package var fixed: Bool
        package var note: String
        /// The job a rebuilt image is now recorded in.
        package var jobID: Int64?

        package static func done(_ note: String, jobID: Int64? = nil) -> Fix {
            Fix(fixed: true, note: note, jobID: jobID)
        }
        package static func notFixed(_ note: String) -> Fix { Fix(fixed: false, note: note, jobID: nil) }
    }

    package var fix: Fix? {
        switch self {
        case .missing(_, let fix), .unrecorded(_, _, let fix), .stale(_, let fix): fix
        }
    }
}

/// A file named by an image's `source_path`, found under one of a source's watch roots.
package struct LocatedFile: Sendable, Equatable {
    package var source: String
    package var root: RawPath
    package var path: RawPath
}
