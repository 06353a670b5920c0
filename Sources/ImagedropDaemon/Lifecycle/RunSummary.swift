import ImagedropStore

/// The last line of `run --once`, for the operator and for cron mail: what this run did and what it left.
/// `left` counts the jobs still waiting (queued, retrying or returned from an upload cut short) after the stop.
package struct RunSummary: Sendable, Equatable {
    package var uploaded: Int
    package var alreadyStored: Int
    package var failed: Int
    package var left: Int
    package var seconds: Int

    package init(uploaded: Int, alreadyStored: Int, failed: Int, left: Int, seconds: Int) {
        self.uploaded = uploaded
        self.alreadyStored = alreadyStored
        self.failed = failed
        self.left = left
        self.seconds = seconds
    }

    /// `2000 uploaded, 7 already stored, 15 failed, 0 left in 5m04s`
    package var line: String {
        "\(uploaded) uploaded, \(alreadyStored) already stored, \(failed) failed, \(left) left in \(HumanUnits.duration(seconds))"
    }

    /// A run in which any job failed exits `Daemon.Exit.partial` (23, rsync's "partial transfer"), so a
    /// script or cron job sees it without parsing the summary.
    package var exit: Daemon.Exit { failed > 0 ? .partial : .ok }
}
