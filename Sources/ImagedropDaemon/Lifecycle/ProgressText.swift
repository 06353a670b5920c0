import ImagedropPipeline
import ImagedropStore
import ImagedropSupport

/// The daemon's one-line status (`status`, the heartbeat, systemd's STATUS=, the terminal's progress line) and the
/// backlog's ETA in it, from the job path's shared objects and the watcher.
struct ProgressText {
    let upload: JobProcessor.Dependencies
    let watcher: Watcher

    func line(_ counts: [JobState: Int]?, rate: Throughput.Rate?) -> String {
        progress(counts, rate: rate).line
    }

    /// The status line and the backlog's ETA in it, computed once: the heartbeat records both, so `status`, the
    /// page and the progress line show one figure.
    func progress(_ counts: [JobState: Int]?, rate: Throughput.Rate?) -> (line: String, eta: Int?) {
        guard let counts else { return ("database unreadable", nil) }
        var parts = ["\(counts[.queued] ?? 0) queued", "\(counts[.uploading] ?? 0) uploading"]
        if let retrying = counts[.retrying], retrying > 0 { parts.append("\(retrying) retrying") }
        parts.append("\(counts[.done] ?? 0) done")
        parts.append("\(counts[.failed] ?? 0) failed")
        if let last = upload.metrics.snapshot.lastUploadMonotonicNanos {
            parts.append("last upload \((Timestamp.monotonicNanos() - last) / 1_000_000_000) s ago")
        }
        let unwatched = watcher.unwatchedFolders
        if unwatched > 0 { parts.append("\(unwatched) folders unwatched (inotify limit; polled)") }
        let waiting = (counts[.queued] ?? 0) + (counts[.retrying] ?? 0) + (counts[.uploading] ?? 0)
        if let rate = Throughput.text(rate: rate) { parts.append(rate) }
        let eta = backlogETA(waiting: waiting, rate: rate)
        if waiting > 0, let eta { parts.append("ETA \(HumanUnits.duration(eta))") }
        if let reason = upload.pause.reason { parts.append((waiting > 0 ? "ETA unknown, " : "") + "PAUSED: \(reason)") }
        if let unconfigured = SourceReport.unconfiguredText(store: upload.store, config: upload.config) {
            parts.append(unconfigured)
        }
        // Only while work waits (claimed jobs wait for their grant as `uploading`): an idle daemon with a spent
        // budget is not waiting for anything.
        if waiting > 0, let wait = upload.budget.currentWait() { parts.append(wait.text) }
        return (parts.joined(separator: ", "), eta)
    }

    /// BacklogETA with what this daemon knows now: the last minute's rate, the request budget's room (uploads
    /// take from it unless they go through batch tokens, which have their own rate), and whether it is paused.
    func backlogETA(waiting: Int, rate: Throughput.Rate?) -> Int? {
        let batch = upload.config.current.cloudflare.batchAPI
        return BacklogETA.seconds(
            waiting: waiting, paused: upload.pause.isPaused,
            .init(
                measuredPerSecond: rate?.filesPerSecond,
                budget: batch ? nil : upload.budget.headroom(),
                batchPerSecond: batch ? upload.batchTokens.limiter.headroom()?.perSecond : nil))
    }
}
