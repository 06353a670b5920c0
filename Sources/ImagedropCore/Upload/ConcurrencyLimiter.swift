import Glibc
import ImagedropSupport
import Synchronization

/// How many uploads may be in flight at once, adapted to the API's answers (AIMD, as Vector's adaptive
/// request concurrency): every 429 halves the limit (at most once per second, so one burst of 429s is one
/// decrease), and each success adds 1/limit, so a full round of successes adds one slot.
public final class ConcurrencyLimiter: Sendable {
    private struct State {
        var maximum: Int
        var limit: Double
        var inFlight = 0
        var lastDecrease: UInt64 = 0
    }

    private let state: Mutex<State>

    public init(maximum: Int) {
        state = Mutex(State(maximum: max(1, maximum), limit: Double(max(1, maximum))))
    }


    public func setMaximum(_ maximum: Int) {
        state.withLock { state in
            state.maximum = max(1, maximum)
            state.limit = min(state.limit, Double(state.maximum))
            if maximum > Int(state.limit) { state.limit = Double(state.maximum) }
        }
    }

    /// Takes a slot, waiting while the pool is at its limit. False when `shouldStop` turns true first.
    public func acquire(shouldStop: () -> Bool) -> Bool {
        while true {
            if shouldStop() { return false }
            let granted = state.withLock { state -> Bool in
                guard state.inFlight < max(1, Int(state.limit)) else { return false }
                state.inFlight += 1
                return true
            }
            if granted { return true }
            var request = timespec(tv_sec: 0, tv_nsec: 5_000_000)
            nanosleep(&request, nil)
        }
    }

    public func release(rateLimited: Bool, succeeded: Bool) {
        release(rateLimited: rateLimited, succeeded: succeeded, now: Timestamp.monotonicNanos())
    }

    /// The current limit (for tests).
    var limit: Double { state.withLock { $0.limit } }

    /// `now` is read before the lock is taken, so another worker's later reading may already be stored as
    /// `lastDecrease`: such an out-of-order reading belongs to the same burst and must not be subtracted.
    func release(rateLimited: Bool, succeeded: Bool, now: UInt64) {
        state.withLock { state in
            state.inFlight = max(0, state.inFlight - 1)
            if rateLimited {
                if now > state.lastDecrease, now - state.lastDecrease > 1_000_000_000 {
                    state.limit = max(1, state.limit / 2)
                    state.lastDecrease = now
                }
            } else if succeeded {
                state.limit = min(Double(state.maximum), state.limit + 1 / state.limit)
            }
        }
    }
}
