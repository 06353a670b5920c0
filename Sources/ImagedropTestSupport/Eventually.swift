import Glibc
import ImagedropSupport

/// Polls `condition` every `pollMillis` until it holds or `seconds` pass on the monotonic clock; whether it held.
/// The one wait of the tests: what they wait for happens on another thread or in another process, and a deadline
/// that is generous (machines are noisy) costs nothing when the condition holds early.
package func eventually(
    within seconds: Double, pollMillis: UInt32 = 20, _ condition: () throws -> Bool
) rethrows -> Bool {
    let deadline = Timestamp.monotonicNanos() + UInt64(seconds * 1e9)
    while Timestamp.monotonicNanos() < deadline {
        if try condition() { return true }
        usleep(pollMillis * 1000)
    }
    return try condition()
}
