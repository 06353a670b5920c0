/// Files that were written to (IN_MODIFY) and not closed since (IN_CLOSE_WRITE): a writer still holds them.
///
/// A scan only sees a name and an mtime. A producer that pauses longer than `settle_ms` in the middle of a
/// file (a camera over a slow link, a copy throttled by the disk) leaves an mtime that looks settled, and a
/// scan passing then would upload — and with `on_success = "move"` move away — the first half of the file.
/// inotify saw the writes, so the watcher knows better: a file in this set is left to its close event.
///
/// An entry is a hint, not a lock: the kernel sends IN_CLOSE_WRITE when the last writer closes or dies, but
/// a write without an open (truncate(2) on a path) has no close, and a deleted file's entry is never closed.
/// So entries expire `staleAfterNanos` after the last write seen; a writer idle that long is taken as done.
struct OpenWrites {
    static let staleAfterNanos: UInt64 = 300 * 1_000_000_000

    private var lastWrite: [RawPath: UInt64] = [:]

    mutating func wrote(_ path: RawPath, at now: UInt64) { lastWrite[path] = now }

    mutating func closed(_ path: RawPath) { lastWrite.removeValue(forKey: path) }

    func isOpen(_ path: RawPath, now: UInt64) -> Bool {
        guard let last = lastWrite[path] else { return false }
        return now < last || now - last < Self.staleAfterNanos
    }

    /// Drops expired entries (each watcher turn; cheap: only files being written are here).
    mutating func forgetStale(now: UInt64) {
        guard !lastWrite.isEmpty else { return }
        lastWrite = lastWrite.filter { now < $0.value || now - $0.value < Self.staleAfterNanos }
    }

    var count: Int { lastWrite.count }
}
