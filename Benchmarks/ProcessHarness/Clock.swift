import Glibc
import ImagedropSupport

package enum Clock {
    /// The core's clock (ImagedropSupport), so the harness and the daemon measure with the same one.
    package static func monotonicNanos() -> UInt64 { Timestamp.monotonicNanos() }

    package static func monotonicSeconds() -> Double { Double(monotonicNanos()) / 1e9 }

    /// CLOCK_REALTIME in microseconds: the clock the emulator stamps requests with.
    package static func realtimeMicros() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1_000
    }

    package static func sleep(seconds: Double) {
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0, errno == EINTR { request = remaining }
    }

    /// Polls `condition` every `interval` seconds until it holds or `timeout` passes.
    @discardableResult
    package static func waitUntil(timeout: Double, interval: Double = 0.005, _ condition: () -> Bool) -> Bool {
        let deadline = monotonicSeconds() + timeout
        while monotonicSeconds() < deadline {
            if condition() { return true }
            sleep(seconds: interval)
        }
        return condition()
    }
}

package enum Stats {
    package static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        let rank = max(0, min(sorted.count - 1, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1))
        return sorted[rank]
    }

    package static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }
}
