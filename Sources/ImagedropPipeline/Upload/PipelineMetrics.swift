import ImagedropSupport
import ImagedropSystem
import ImagedropStore
import Synchronization

/// Counters the daemon exposes (Prometheus textfile, STATUS= line, logs). Monotonic since start.
public final class PipelineMetrics: Sendable {
    public struct Snapshot: Sendable {
        public var uploads = 0
        public var uploadedBytes = 0
        public var retries = 0
        public var rateLimited = 0
        public var failuresByCode: [String: Int] = [:]
        public var latencyBuckets: [Int] = Array(repeating: 0, count: PipelineMetrics.latencyBounds.count + 1)
        public var latencySum = 0.0
        public var latencyCount = 0
        public var lastUploadMonotonicNanos: UInt64?
        public var requests = 0
        /// Jobs that ended `done` by an upload of their own, and by finding the image already stored (a 409 on
        /// a content-hash id, or an earlier send found by its job key): the `run --once` summary.
        public var doneUploaded = 0
        public var doneAlreadyStored = 0
        /// Images stored per source (`imagedrop_source_uploads_total`).
        public var uploadsBySource: [String: Int] = [:]
        public var failed: Int { failuresByCode.values.reduce(0, +) }
    }

    /// Upper bounds (seconds) of the request-latency histogram buckets.
    public static let latencyBounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]

    private let state = Mutex(Snapshot())

    public init() {}

    public var snapshot: Snapshot { state.withLock { $0 } }

    public func recordRequest(seconds: Double) {
        state.withLock { state in
            state.requests += 1
            let index = Self.latencyBounds.firstIndex { seconds <= $0 } ?? Self.latencyBounds.count
            state.latencyBuckets[index] += 1
            state.latencySum += seconds
            state.latencyCount += 1
        }
    }

    public func recordUpload(bytes: Int, at now: UInt64, source: String = SourceSettings.defaultName) {
        state.withLock { state in
            state.uploads += 1
            state.uploadsBySource[source, default: 0] += 1
            state.uploadedBytes += bytes
            state.lastUploadMonotonicNanos = now
        }
    }

    public func recordDone(alreadyStored: Bool) {
        state.withLock { state in
            if alreadyStored { state.doneAlreadyStored += 1 } else { state.doneUploaded += 1 }
        }
    }

    public func recordRetry(rateLimited: Bool) {
        state.withLock { state in
            state.retries += 1
            if rateLimited { state.rateLimited += 1 }
        }
    }

    public func recordFailure(code: Int?) {
        state.withLock { state in state.failuresByCode[code.map(String.init) ?? "local", default: 0] += 1 }
    }
}
