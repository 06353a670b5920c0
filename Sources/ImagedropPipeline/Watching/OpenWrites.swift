import ImagedropSystem
import Synchronization

/// Files that were written to (IN_MODIFY) and not closed since (IN_CLOSE_WRITE): a writer still holds them.
///
/// A scan only sees a name and an mtime, and a worker's pre-flight only a consistent snapshot. A producer that
/// pauses longer than `settle_ms` in the middle of a file (a camera over a slow link, a copy throttled by the
/// disk) leaves an mtime that looks settled: a scan passing then, or a worker taking up a job whose file
/// "changed during upload", would upload — and with `on_success = "move"` move away — the first half of the
/// file. inotify saw the writes, so the watcher knows better: a file in this set is left to its close event,
/// by the watcher's scans and by the workers alike. The watcher writes it; workers only read it.
///
/// An entry is a hint, not a lock: the kernel sends IN_CLOSE_WRITE when the last writer closes or dies, but
/// a write without an open (truncate(2) on a path) has no close, and events lost to an overflow may include
/// the close. So entries expire `staleAfterNanos` after the last write seen; a writer idle that long is taken
/// as done.
package final class OpenWrites: Sendable {
    package static let staleAfterNanos: UInt64 = 300 * 1_000_000_000

    private let lastWrite = Mutex<[RawPath: UInt64]>([:])

    package init() {}

    package func wrote(_ path: RawPath, at now: UInt64) { lastWrite.withLock { $0[path] = now } }

    package func closed(_ path: RawPath) { _ = lastWrite.withLock { $0.removeValue(forKey: path) } }

    /// After an inotify overflow: the lost events may include closes.
    package func forgetAll() { lastWrite.withLock { $0.removeAll() } }

    package func isOpen(_ path: RawPath, now: UInt64) -> Bool {
        lastWrite.withLock { table in
            guard let last = table[path] else { return false }
            return now < last || now - last < Self.staleAfterNanos
        }
    }

    /// Drops expired entries (each watcher turn; cheap: only files being written are here).
    package func forgetStale(now: UInt64) {
        lastWrite.withLock { table in
            guard !table.isEmpty else { return }
            table = table.filter { now < $0.value || now - $0.value < Self.staleAfterNanos }
        }
    }

    package var count: Int { lastWrite.withLock { $0.count } }
}
