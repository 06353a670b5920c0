/// When `run --once` may end: the queue is drained *and* the watcher holds nothing — no file settling, none
/// waiting for the table, no rescan asked for — across two whole turns of the watcher that began after the
/// drain was first seen. A file closed before that moment raised its inotify event before those turns read
/// the queue, so it is either in the table (and the queue is not drained) or still pending: never forgotten.
struct OnceCompletion {
    private var mark: UInt64?

    mutating func isComplete(queueDrained: Bool, watcher: Watcher) -> Bool {
        guard queueDrained, watcher.pendingFiles == 0, !watcher.rescanPending else {
            mark = nil
            return false
        }
        guard let mark else {
            self.mark = watcher.turns
            watcher.nudge()
            return false
        }
        if watcher.turns >= mark + 2 { return true }
        watcher.nudge()
        return false
    }
}
