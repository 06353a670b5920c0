import ImagedropStore
import ImagedropSystem

/// The settle rule as a value: which files are waiting to be still for `settle` and when each is next looked
/// at. Pure — the caller stats files and passes the clock readings in — so the rule is tested with made-up
/// times and statuses, and the watcher only does the I/O around it.
package struct SettleTracker {
    package private(set) var pending: [RawPath: Pending] = [:]

    package var count: Int { pending.count }
    package func isPending(_ path: RawPath) -> Bool { pending[path] != nil }
    /// The watch root a waiting file was found under (whose source's `settle_ms` applies to it).
    package func root(of path: RawPath) -> RawPath? { pending[path]?.root }

    /// The earliest moment a waiting file is due (monotonic ns), for the watcher's poll timeout.
    package var nextDue: UInt64? { pending.values.map(\.due).min() }

    /// A file closed after writing or renamed in: taken now (true) when there is nothing to wait for (not a
    /// regular file, or no settle time), else looked at again once `settleNanos` passed from `now`.
    package mutating func closed(
        _ path: RawPath, root: RawPath, status: FileStatus, settleNanos: UInt64, now: UInt64
    ) -> Bool {
        if !status.isRegular || settleNanos == 0 {
            pending.removeValue(forKey: path)
            return true
        }
        pending[path] = Pending(root: root, status: status, due: now + settleNanos)
        return false
    }

    /// A file found by listing (a scan or a poll), with no event to say it was closed: its mtime's age is the
    /// evidence. Taken now (true) when it has been still for `settleNanos` by the wall clock `wallNanos`.
    package mutating func listed(
        _ path: RawPath, root: RawPath, status: FileStatus, settleNanos: UInt64,
        now: UInt64, wallNanos: Int64
    ) -> Bool {
        let ageNanos = wallNanos - status.mtimeNanos
        if !status.isRegular || settleNanos == 0 || ageNanos >= Int64(settleNanos) { return true }
        pending[path] = Pending(root: root, status: status, due: now + settleNanos)
        return false
    }

    /// Written to again, gone, or its folder forgotten: whatever check was running no longer applies.
    package mutating func forget(_ path: RawPath) { pending.removeValue(forKey: path) }

    package mutating func forget(root: RawPath) { pending = pending.filter { $0.value.root != root } }

    /// The files whose settle period has passed at `now`: the caller stats each and calls `recheck`.
    package func due(now: UInt64) -> [RawPath] { pending.filter { $0.value.due <= now }.map(\.key) }

    /// A due file looked at again: nil status (gone) forgets it; a size or mtime that moved means it is still
    /// being written, so it waits another full period from `now`; unchanged, it is finished and handed back.
    package mutating func recheck(
        _ path: RawPath, status: FileStatus?, settleNanos: UInt64, now: UInt64
    ) -> FileCandidate? {
        guard let waiting = pending[path] else { return nil }
        guard let status else {
            pending.removeValue(forKey: path)
            return nil
        }
        if status.size != waiting.status.size || status.mtimeNanos != waiting.status.mtimeNanos {
            pending[path] = Pending(root: waiting.root, status: status, due: now + settleNanos)
            return nil
        }
        pending.removeValue(forKey: path)
        return FileCandidate(path: path, root: waiting.root, size: status.size, mtimeNanos: status.mtimeNanos)
    }
}
