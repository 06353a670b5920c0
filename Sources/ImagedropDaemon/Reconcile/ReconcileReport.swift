import ImagedropStore
import ImagedropSupport
import ImagedropSystem

/// Writes what `reconcile` found as it is found: one line per difference and the summary line last, or one
/// JSON object whose arrays are written entry by entry (`{"images", "done_jobs", "missing", "unrecorded",
/// "stale", "fixed"}`), so a report of a million differences is never held whole in memory.
package final class ReconcileReport {
    package enum Section: String, Sendable { case missing, unrecorded, stale }

    package struct Totals: Sendable, Equatable {
        package var missing = 0, unrecorded = 0, stale = 0
        package var queued = 0, recorded = 0, refreshed = 0
        package var left: Int { missing + unrecorded + stale - queued - recorded - refreshed }
    }

    private let json: Bool
    private let fixing: Bool
    private let write: (String) -> Void
    private var buffer = ""
    private static let order: [Section] = [.missing, .unrecorded, .stale]
    /// The index in `order` of the last section opened (-1: none yet), and whether it is still open.
    private var opened = -1
    private var isOpen = false
    private var entriesInSection = 0
    package private(set) var totals = Totals()
    private var images = 0
    private var doneJobs = 0

    package init(json: Bool, fixing: Bool, write: @escaping (String) -> Void) {
        self.json = json
        self.fixing = fixing
        self.write = write
    }

    package func begin(images: Int, doneJobs: Int) {
        self.images = images
        self.doneJobs = doneJobs
        if json { emit("{\"images\": \(images), \"done_jobs\": \(doneJobs)") }
    }

    package func add(_ difference: LedgerDifference) {
        let kind: Section
        switch difference {
        case .missing:
            kind = .missing
            totals.missing += 1
        case .unrecorded:
            kind = .unrecorded
            totals.unrecorded += 1
        case .stale:
            kind = .stale
            totals.stale += 1
        }
        if let fix = difference.fix, fix.fixed {
            switch kind {
            case .missing: totals.queued += 1
            case .unrecorded: totals.recorded += 1
            case .stale: totals.refreshed += 1
            }
        }
        open(kind)
        if json {
            emit((entriesInSection == 0 ? "\n  " : ",\n  ") + Self.jsonEntry(difference, fixing: fixing))
        } else {
            emit(Self.textLine(difference) + "\n")
        }
        entriesInSection += 1
    }

    /// Closes the report; returns the exit status: 0 in agreement (or all fixed), 1 when differences remain.
    package func finish() -> Int32 {
        open(.stale)
        closeSection()
        if json {
            emit(
                ", \"fixed\": {\"queued\": \(totals.queued), \"recorded\": \(totals.recorded), "
                    + "\"refreshed\": \(totals.refreshed), \"left\": \(totals.left)}}\n")
        } else {
            emit(
                "\(images) images in the account, \(doneJobs) done jobs: \(totals.missing) missing, "
                    + "\(totals.unrecorded) unrecorded, \(totals.stale) stale\n")
            if fixing {
                emit(
                    "fixed: \(totals.queued) queued again, \(totals.recorded) recorded, \(totals.refreshed) refreshed; "
                        + "\(totals.left) left\n")
            }
        }
        flush()
        return totals.left == 0 ? 0 : 1
    }

    /// Sections open in their fixed order (JSON keys in the documented order, each array present, maybe empty).
    private func open(_ next: Section) {
        let target = Self.order.firstIndex(of: next) ?? 0
        while opened < target {
            closeSection()
            opened += 1
            isOpen = true
            entriesInSection = 0
            if json { emit(", \"\(Self.order[opened].rawValue)\": [") }
        }
    }

    private func closeSection() {
        guard isOpen else { return }
        isOpen = false
        if json { emit(entriesInSection == 0 ? "]" : "\n]") }
    }

    private func emit(_ text: String) {
        buffer += text
        if buffer.utf8.count >= 64 * 1024 { flush() }
    }

    private func flush() {
        guard !buffer.isEmpty else { return }
        write(buffer)
        buffer = ""
    }

    // MARK: - Rendering

    package static func textLine(_ difference: LedgerDifference) -> String {
        var line: String
        switch difference {
        case .missing(let job, _):
            line = "missing: job \(job.id) \(job.path.display) (image \(job.imageID ?? "?"))"
        case .unrecorded(let image, let file, _):
            line =
                "unrecorded: image \(image.id) (source_path \(image.sourcePath ?? "?"), "
                + (file.map { "file \($0.path.display)" } ?? "no such file under the watch roots") + ")"
        case .stale(let stale, _):
            line =
                "stale: job \(stale.job.id) \(stale.job.path.display) (image \(stale.job.imageID ?? "?")): "
                + "variants \(stale.job.variants.count) in the ledger, \(stale.accountVariants.count) in the account"
        }
        if let fix = difference.fix { line += (fix.fixed ? " — " : " — not fixed: ") + fix.note }
        return line
    }

    package static func jsonEntry(_ difference: LedgerDifference, fixing: Bool) -> String {
        var pairs: [(String, String)]
        switch difference {
        case .missing(let job, _):
            pairs = [
                ("job_id", "\(job.id)"), ("path", JSONString.quoted(job.path.display)),
                ("source", JSONString.quoted(job.source)), ("image_id", JSONString.optional(job.imageID)),
                ("sha256", JSONString.optional(job.sha256)),
            ]
        case .unrecorded(let image, let file, let fix):
            pairs = [
                ("image_id", JSONString.quoted(image.id)), ("sha256", JSONString.optional(image.sha256)),
                ("source_path", JSONString.optional(image.sourcePath)),
                ("source", JSONString.optional(file?.source)), ("path", JSONString.optional(file?.path.display)),
                ("uploaded", JSONString.optional(image.uploaded)),
            ]
            if fixing { pairs.append(("job_id", fix?.jobID.map { "\($0)" } ?? "null")) }
        case .stale(let stale, _):
            pairs = [
                ("job_id", "\(stale.job.id)"), ("path", JSONString.quoted(stale.job.path.display)),
                ("source", JSONString.quoted(stale.job.source)), ("image_id", JSONString.optional(stale.job.imageID)),
                ("variants", array(stale.job.variants)), ("account_variants", array(stale.accountVariants)),
            ]
        }
        if fixing, let fix = difference.fix {
            pairs.append(("fixed", fix.fixed ? "true" : "false"))
            pairs.append(("note", JSONString.quoted(fix.note)))
        }
        return "{" + pairs.map { "\(JSONString.quoted($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
    }

    private static func array(_ values: [String]) -> String {
        "[" + values.map(JSONString.quoted).joined(separator: ", ") + "]"
    }
}

@available(*, unavailable)
extension ReconcileReport: Sendable {}
