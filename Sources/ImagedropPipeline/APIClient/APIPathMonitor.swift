import ImagedropStore
import ImagedropSystem
import Logging
import Synchronization

/// Tells failures about the path to the API from failures about one upload, for the whole pool.
///
/// A failure curl itself attributes to the path (refused, unresolvable, TLS) pauses the queue at once.
/// A timeout or a dropped connection may be about the request (a huge file on a slow link), so each is a
/// per-job retry — until `threshold` requests in a row across the pool end that way with no HTTP reply
/// at all in between: then it is an outage, and that request and every later one until a reply arrives
/// pause the queue instead of counting attempts. Any reply (even an error status) proves the path works
/// and resets the count; the prober's probe is such a reply, and it is what resumes the queue.
package final class APIPathMonitor: Sendable {
    package static let defaultThreshold = 4

    private let pause: PauseGate
    private let store: JobStore?
    private let logger: Logger
    private let threshold: Int
    private let failuresInARow = Mutex(0)
    /// For the paused line's re-check interval and API address (nil in tests: the defaults).
    private let config: SharedConfig?

    package init(
        pause: PauseGate, store: JobStore?, logger: Logger, threshold: Int = APIPathMonitor.defaultThreshold,
        config: SharedConfig? = nil
    ) {
        self.config = config
        self.pause = pause
        self.store = store
        self.logger = logger
        self.threshold = max(1, threshold)
    }

    /// Every reply a worker or the prober gets passes through here before it is looked at: an HTTP reply
    /// resets the count; a failure below HTTP that makes this an outage pauses the queue and returns the reason
    /// (the caller abandons the request, like a stop: the job goes back untouched, no attempt counted).
    /// Returns a value rather than throwing a typed error: a typed throw nested in the client's own typed
    /// throws crashed the optimised build (SIGSEGV in the prober, `swift build -c release`, Swift 6.3).
    package func pausedFor(_ reply: ImagesClient.Reply) -> String? {
        if reply.response != nil {
            sawReply()
            return nil
        }
        guard let failure = reply.transportFailure else { return nil }
        return sawFailure(failure)
    }

    /// An HTTP reply arrived.
    package func sawReply() { failuresInARow.withLock { $0 = 0 } }

    /// A request failed below HTTP. Returns the pause reason when the queue is now paused for the path
    /// (the caller abandons the request, like a stop, and counts no attempt); nil when it is the job's.
    package func sawFailure(_ error: CurlError) -> String? {
        switch error.kind {
        case .unreachable, .tls:
            failuresInARow.withLock { $0 += 1 }
            return pauseQueue(error.pauseReason)
        case .transport:
            let count = failuresInARow.withLock { count -> Int in
                count += 1
                return count
            }
            guard count >= threshold else { return nil }
            return pauseQueue("API unreachable: \(count) requests in a row got no reply; last: \(error)")
        case .local:
            return nil
        case .programming:
            logger.critical(
                "libcurl refused a request imagedrop made: this is a bug or a broken libcurl; the job fails",
                metadata: ["error": "\(error)"])
            return nil
        }
    }

    private func pauseQueue(_ reason: String) -> String {
        // Already paused for the path: keep the first reason (timeouts differ in their milliseconds), so the
        // log says it once per outage, not once per in-flight request.
        if pause.kind == .unreachable, let current = pause.apiReason { return current }
        if pause.pause(reason, kind: .unreachable) {
            PauseNotice.log(logger, reason: reason, kind: .unreachable, config: config?.current ?? Config())
            try? store?.recordPause(reason)
        }
        return reason
    }
}
