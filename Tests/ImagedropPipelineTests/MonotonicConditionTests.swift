import Foundation
import ImagedropSupport
import Testing

@testable import ImagedropPipeline

/// The daemon's one timed wait: deadlines on CLOCK_MONOTONIC. A condition variable left on the wall clock
/// would read a deadline of "uptime + 0.2 s" as a moment in January 1970, long past, and time out at once —
/// so the waits below that last their full time also prove which clock the condition uses.
@Suite("Monotonic condition")
struct MonotonicConditionTests {
    static func elapsedSeconds(since start: UInt64) -> Double { Double(Timestamp.monotonicNanos() - start) / 1e9 }

    /// A flag shared with a helper thread.
    final class Flag: @unchecked Sendable {
        // @unchecked: read and written only with a MonotonicCondition of the test locked.
        var value = false
    }

    @Test("a timed wait nobody signals times out at its monotonic deadline, not before")
    func timesOut() {
        let condition = MonotonicCondition()
        let start = Timestamp.monotonicNanos()
        let deadline = start + 200_000_000
        condition.lock()
        var woken = true
        // Spurious wake-ups return true early: waiting in a loop, as every caller does, reaches the deadline.
        while woken, Timestamp.monotonicNanos() < deadline { woken = condition.wait(untilMonotonicNanos: deadline) }
        condition.unlock()
        #expect(!woken)
        #expect(Self.elapsedSeconds(since: start) >= 0.19)
    }

    @Test("a signal before the deadline ends the wait at once")
    func signalledBeforeTimeout() {
        let condition = MonotonicCondition()
        let ready = Flag()
        let start = Timestamp.monotonicNanos()
        Thread.detachNewThread {
            usleep(50_000)
            condition.withLock {
                ready.value = true
                condition.broadcast()
            }
        }
        let deadline = MonotonicCondition.deadline(afterSeconds: 10)
        condition.lock()
        var inTime = true
        while !ready.value, inTime { inTime = condition.wait(untilMonotonicNanos: deadline) }
        let signalled = ready.value
        condition.unlock()
        #expect(signalled && inTime)
        #expect(Self.elapsedSeconds(since: start) < 5)
    }

    @Test("deadlines clamp negative, NaN and huge waits instead of trapping")
    func deadlines() {
        let now = Timestamp.monotonicNanos()
        #expect(MonotonicCondition.deadline(afterSeconds: -5) >= now)
        #expect(MonotonicCondition.deadline(afterSeconds: .nan) < now + 1_000_000_000)
        #expect(MonotonicCondition.deadline(afterSeconds: .infinity) > now + 86_400 * 1_000_000_000)
        #expect(
            MonotonicCondition.deadline(afterSeconds: 1e300) <= Timestamp.monotonicNanos() + 366 * 86_400
                * 1_000_000_000)
    }

    @Test("Latch and WorkSignal time out after their wait and open or wake at once when told")
    func latchAndWorkSignal() {
        let latch = Latch()
        var start = Timestamp.monotonicNanos()
        #expect(!latch.wait(seconds: 0.15))
        #expect(Self.elapsedSeconds(since: start) >= 0.14)
        Thread.detachNewThread {
            usleep(30_000)
            latch.countDown()
        }
        start = Timestamp.monotonicNanos()
        #expect(latch.wait(seconds: 10))
        #expect(Self.elapsedSeconds(since: start) < 5)

        let signal = WorkSignal()
        start = Timestamp.monotonicNanos()
        signal.wait(timeoutSeconds: 0.15)
        #expect(Self.elapsedSeconds(since: start) >= 0.14)
        // A wake-up is not kept for a waiter that arrives later: notify until the waiter is back.
        let back = Flag()
        let notifier = MonotonicCondition()
        Thread.detachNewThread {
            while !notifier.withLock({ back.value }) {
                usleep(20_000)
                signal.notifyAll()
            }
        }
        start = Timestamp.monotonicNanos()
        signal.wait(timeoutSeconds: 10)
        notifier.withLock { back.value = true }
        #expect(Self.elapsedSeconds(since: start) < 5)
    }
}
