import Glibc
import ImagedropStore
import ImagedropSupport
import Synchronization

/// The worker pool's gate on uploads in flight, applying `AdaptiveConcurrency` (the policy lives there;
/// this class only holds it under a lock, reads the clock and waits for a slot).
package final class ConcurrencyLimiter: Sendable {
    /// What `status`, the heartbeat row and the metrics show.
    package struct Snapshot: Sendable, Equatable {
        package var current: Int
        package var maximum: Int
        package var mode: AdaptiveConcurrency.Mode
        package var bound: AdaptiveConcurrency.Bound
        package var inFlight: Int

        /// The `concurrency` object of `status --json` (also stored in the daemon row as this JSON text).
        package var json: String {
            "{\"current\":\(current),\"max\":\(maximum),\"mode\":\"\(mode.rawValue)\",\"bound\":\"\(bound.rawValue)\",\"in_flight\":\(inFlight)}"
        }
    }

    private let state: Mutex<AdaptiveConcurrency>

    package init(_ upload: Config.Upload, rateCap: Double?, now: UInt64 = Timestamp.monotonicNanos()) {
        state = Mutex(
            AdaptiveConcurrency(
                workers: upload.fixedWorkers, maxWorkers: upload.maxWorkers,
                rateCap: rateCap, now: now))
    }

    package func reconfigure(_ upload: Config.Upload, rateCap: Double?) {
        state.withLock { $0.reconfigure(workers: upload.fixedWorkers, maxWorkers: upload.maxWorkers, rateCap: rateCap) }
    }

    /// The requests per second that bind uploads under `config`: the batch token's 200/s with the batch
    /// API, else the global budget's average rate; nil when unlimited.
    package static func rateCap(_ config: Config) -> Double? {
        if config.cloudflare.batchAPI { return 200 }
        guard config.upload.requestsPer5Min > 0 else { return nil }
        return Double(config.upload.requestsPer5Min) / Double(max(1, config.upload.rateWindowSeconds))
    }

    /// How many workers may hold a job now.
    package var currentLimit: Int { state.withLock { $0.limit } }

    /// The most workers the pool may ever need under the present config.
    package var threadCap: Int { state.withLock { $0.maximum } }

    package func snapshot(now: UInt64 = Timestamp.monotonicNanos()) -> Snapshot {
        state.withLock { policy in
            Snapshot(
                current: policy.limit, maximum: policy.maximum, mode: policy.mode,
                bound: policy.boundShown(now: now), inFlight: policy.inFlight)
        }
    }

    /// Takes a slot, waiting while the pool is at its limit. False when `shouldStop` turns true first.
    package func acquire(shouldStop: () -> Bool) -> Bool {
        while true {
            if shouldStop() { return false }
            let now = Timestamp.monotonicNanos()
            let granted = state.withLock { policy -> Bool in
                guard policy.inFlight < policy.limit else { return false }
                policy.began(now: now)
                return true
            }
            if granted { return true }
            var request = timespec(tv_sec: 0, tv_nsec: 5_000_000)
            nanosleep(&request, nil)
        }
    }

    /// Gives the slot back with what the request said. Returns the limit after it, so the pool can start
    /// the workers a raised limit allows.
    @discardableResult
    package func release(rttSeconds: Double?, signal: AdaptiveConcurrency.Signal) -> Int {
        release(rttSeconds: rttSeconds, signal: signal, now: Timestamp.monotonicNanos())
    }

    /// `now` is read before the lock is taken, so another worker's later reading may already be stored:
    /// the policy accepts readings out of order.
    @discardableResult
    package func release(rttSeconds: Double?, signal: AdaptiveConcurrency.Signal, now: UInt64) -> Int {
        state.withLock { policy in
            policy.ended(rttSeconds: rttSeconds, signal: signal, now: now)
            return policy.limit
        }
    }
}

extension ImagesClient.Reply {
    /// What the reply says to the concurrency policy: a transient reply (429, 408, 5xx, a timeout, a
    /// connection error) asks for less; a stored or known image is a clean round trip; the rest is silent.
    package var concurrencySignal: AdaptiveConcurrency.Signal {
        switch classification {
        case .success, .alreadyExists: .success
        case .transient: .backpressure
        case .credentials, .quota, .permanent: .neutral
        }
    }
}
