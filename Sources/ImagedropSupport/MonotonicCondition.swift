import Glibc

/// A mutex with a condition variable whose timed waits run on CLOCK_MONOTONIC. `NSCondition.wait(until:)`
/// takes a `Date`, so its deadline is on the wall clock: an NTP step or an operator setting the clock back a
/// minute turned a 1 s wait into a 61 s one, and the watchdog (Liveness) saw an idle worker or a latch waiter
/// as wedged. A deadline here is `Timestamp.monotonicNanos()` plus the wait, and nothing moves it.
///
/// The blocking-wait tool behind `Latch`, `WorkSignal` and `PreparedUploads`; callers keep their own state
/// and touch it only between `lock()` and `unlock()` (or inside `withLock`), waiting in a loop on their predicate.
package final class MonotonicCondition: @unchecked Sendable {
    // @unchecked: the pthread objects live at fixed heap addresses for the object's life (never copied or
    // moved, as pthread requires), and pthread itself makes lock, unlock, wait and broadcast thread-safe.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    package init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        var attributes = pthread_condattr_t()
        // glibc's init calls only validate their attributes (default mutex; CLOCK_MONOTONIC is a clock
        // condition variables accept), so a failure here is a broken C library, not a state to recover from.
        guard pthread_mutex_init(mutex, nil) == 0, pthread_condattr_init(&attributes) == 0,
            pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC) == 0,
            pthread_cond_init(condition, &attributes) == 0
        else { fatalError("pthread could not create a monotonic condition variable") }
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deinitialize(count: 1)
        condition.deallocate()
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    package func lock() { pthread_mutex_lock(mutex) }
    package func unlock() { pthread_mutex_unlock(mutex) }

    package func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }

    /// Wakes every waiter (call with the lock held, after changing the state they wait on).
    package func broadcast() { pthread_cond_broadcast(condition) }

    /// Waits, with the lock held, until woken. Wake-ups may be spurious: wait in a loop on the predicate.
    package func wait() { pthread_cond_wait(condition, mutex) }

    /// Waits, with the lock held, until woken or until the monotonic clock reaches `deadline`
    /// (`Timestamp.monotonicNanos()` units). False when the deadline passed; true may be spurious.
    package func wait(untilMonotonicNanos deadline: UInt64) -> Bool {
        var until = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        return pthread_cond_timedwait(condition, mutex, &until) != ETIMEDOUT
    }

    /// The monotonic deadline `seconds` from now; negative, NaN or absurdly long waits are clamped (to now and
    /// to a year), so no caller's arithmetic can trap on a conversion.
    package static func deadline(afterSeconds seconds: Double) -> UInt64 {
        let bounded = seconds.isNaN ? 0 : min(max(0, seconds), 365 * 86_400)
        return Timestamp.monotonicNanos() + UInt64(bounded * 1e9)
    }
}

extension MonotonicCondition {
    /// A condition variable of its own on this condition's lock, for one waiter: `signal(_:)` wakes that
    /// thread alone, where a `broadcast` would wake every thread waiting on the lock for it to find it was not
    /// its turn and sleep again (GroupCommit's waiters: each wake-up is a futex call and a context switch).
    package final class Waiter: @unchecked Sendable {
        // @unchecked: the pthread object lives at a fixed heap address for the object's life, and pthread
        // makes wait and signal thread-safe.
        fileprivate let condition: UnsafeMutablePointer<pthread_cond_t>

        package init() {
            condition = .allocate(capacity: 1)
            condition.initialize(to: pthread_cond_t())
            // No clock attribute: a Waiter is never waited on with a deadline.
            guard pthread_cond_init(condition, nil) == 0 else {
                fatalError("pthread could not create a condition variable")
            }
        }

        deinit {
            pthread_cond_destroy(condition)
            condition.deinitialize(count: 1)
            condition.deallocate()
        }
    }

    /// Waits on `waiter`, with the lock held, until signalled. Wake-ups may be spurious: wait in a loop.
    package func wait(_ waiter: Waiter) { pthread_cond_wait(waiter.condition, mutex) }

    /// Wakes the thread waiting on `waiter`, if any: after changing its state with the lock held; the signal
    /// itself may come after the lock is let go (the woken thread then does not block on it at once).
    package func signal(_ waiter: Waiter) { pthread_cond_signal(waiter.condition) }
}
