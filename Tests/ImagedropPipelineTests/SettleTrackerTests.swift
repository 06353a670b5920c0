import Glibc
import Testing

@testable import ImagedropPipeline
@testable import ImagedropStore
@testable import ImagedropSystem

/// The settle rule with made-up clocks and statuses: no files, no inotify, no waiting.
@Suite("Settle tracker")
struct SettleTrackerTests {
    private let root = RawPath("/drop")
    private let path = RawPath("/drop/a.png")
    private let settle: UInt64 = 1_000_000_000  // 1 s

    private func status(size: Int, mtimeSeconds: Int, kind: mode_t = S_IFREG) -> FileStatus {
        var info = stat()
        info.st_mode = kind | 0o644
        info.st_size = off_t(size)
        info.st_mtim = timespec(tv_sec: mtimeSeconds, tv_nsec: 0)
        return FileStatus(info)
    }

    @Test("a closed file waits one settle period, then is taken if its size and mtime did not move")
    func closedThenStill() {
        var tracker = SettleTracker()
        let written = status(size: 100, mtimeSeconds: 10)
        let takenAtOnce = tracker.closed(path, root: root, status: written, settleNanos: settle, now: 5_000_000_000)
        #expect(!takenAtOnce)
        #expect(tracker.nextDue == 6_000_000_000)
        #expect(tracker.due(now: 5_999_999_999).isEmpty)
        #expect(tracker.due(now: 6_000_000_000) == [path])
        let taken = tracker.recheck(path, status: written, settleNanos: settle, now: 6_000_000_000)
        #expect(taken == FileCandidate(path: path, root: root, size: 100, mtimeNanos: 10_000_000_000))
        #expect(tracker.count == 0)
    }

    @Test("a file that grew while settling waits a whole new period from the look that saw it grow")
    func stillBeingWritten() {
        var tracker = SettleTracker()
        _ = tracker.closed(path, root: root, status: status(size: 100, mtimeSeconds: 10), settleNanos: settle, now: 0)
        let grown = status(size: 200, mtimeSeconds: 11)
        let takenWhileGrowing = tracker.recheck(path, status: grown, settleNanos: settle, now: 1_000_000_000)
        #expect(takenWhileGrowing == nil)
        #expect(tracker.nextDue == 2_000_000_000)
        let takenOnceStill = tracker.recheck(path, status: grown, settleNanos: settle, now: 2_000_000_000)
        #expect(takenOnceStill?.size == 200)
    }

    @Test("a file gone when due, or written to again, is forgotten; forgetting a root drops only its files")
    func forgetting() {
        var tracker = SettleTracker()
        let other = RawPath("/elsewhere/b.png")
        _ = tracker.closed(path, root: root, status: status(size: 1, mtimeSeconds: 1), settleNanos: settle, now: 0)
        _ = tracker.closed(
            other, root: RawPath("/elsewhere"), status: status(size: 1, mtimeSeconds: 1), settleNanos: settle, now: 0)
        let takenAfterGone = tracker.recheck(path, status: nil, settleNanos: settle, now: settle)
        #expect(takenAfterGone == nil)
        #expect(!tracker.isPending(path) && tracker.isPending(other))
        _ = tracker.closed(path, root: root, status: status(size: 1, mtimeSeconds: 1), settleNanos: settle, now: 0)
        tracker.forget(root: root)
        #expect(!tracker.isPending(path) && tracker.isPending(other))
        tracker.forget(other)
        #expect(tracker.count == 0 && tracker.nextDue == nil)
    }

    @Test("not a regular file, or settle_ms = 0: taken at once, nothing waits")
    func nothingToWaitFor() {
        var tracker = SettleTracker()
        let fifoTaken = tracker.closed(
            path, root: root, status: status(size: 0, mtimeSeconds: 1, kind: S_IFIFO), settleNanos: settle, now: 0)
        #expect(fifoTaken)
        let takenWithoutSettle = tracker.closed(
            path, root: root, status: status(size: 5, mtimeSeconds: 1), settleNanos: 0, now: 0)
        #expect(takenWithoutSettle)
        #expect(tracker.count == 0)
    }

    @Test("a listed file is taken when its mtime is older than settle by the wall clock, else it waits")
    func listedByAge() {
        var tracker = SettleTracker()
        let old = status(size: 9, mtimeSeconds: 100)
        let oldTaken = tracker.listed(
            path, root: root, status: old, settleNanos: settle, now: 0, wallNanos: 101_000_000_000)
        #expect(oldTaken)
        #expect(tracker.count == 0)
        let youngTaken = tracker.listed(
            path, root: root, status: old, settleNanos: settle, now: 0, wallNanos: 100_500_000_000)
        #expect(!youngTaken)
        #expect(tracker.nextDue == settle)
        // An mtime in the future (a camera with a broken clock) is young, not a trap.
        let future = status(size: 9, mtimeSeconds: 4_000_000_000)
        let futureTaken = tracker.listed(
            RawPath("/drop/f.png"), root: root, status: future, settleNanos: settle, now: 0, wallNanos: 0)
        #expect(!futureTaken)
    }
}
