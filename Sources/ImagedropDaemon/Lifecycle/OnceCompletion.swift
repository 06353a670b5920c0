import ImagedropPipeline

/// When `run --once` may end: the queue is drained *and* the watcher holds nothing — no file settling, none
/// waiting for the table, no rescan asked for — across two whole turns of the watcher that began after the
/// drain was first seen. A file closed before that moment raised its inotify event before those turns read
/// the queue, so it is either in the table (and the queue is not drained) or still pending: never forgotten.
/// `watcher` must be read *before* the queue counts, so whatever it had flushed is in those counts.
/// Folders inotify cannot watch raise no event: when there are any, one rescan after the drain lists them.
package struct OnceCompletion {
    private var mark: UInt64?
    private var listedUnwatched = false

    package mutating func isComplete(queueDrained: Bool, watcher progress: Watcher.Progress, nudge: Watcher) -> Bool {
        guard queueDrained, progress.pendingFiles == 0, !progress.rescanPending else {
            mark = nil
            return false
        }
        if progress.unwatchedFolders > 0, !listedUnwatched {
            listedUnwatched = true
            nudge.requestRescan()
            return false
        }
        nudge.nudge()
        guard let mark else {
            self.mark = progress.turns
            return false
        }
        return progress.turns >= mark + 2
    }
}
