import ImagedropStore
import Metrics
import Synchronization

/// The daemon's figures, recorded in one place per event: into swift-metrics handles on this daemon's
/// `MetricsRegistry` (what the textfile and `GET /metrics` expose, see PipelineMetrics+Exposition.swift), and
/// into a plain snapshot for the in-process readers (STATUS= line, throughput, the `run --once` summary), which
/// a Prometheus registry cannot be read back for. Monotonic since start.
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

    public let registry = MetricsRegistry()
    private let uploads: Metrics.Counter
    private let uploadedBytes: Metrics.Counter
    private let retries: Metrics.Counter
    private let rateLimited: Metrics.Counter
    private let requestDuration: Metrics.Recorder
    /// Set from the job table right before each emit (`exposition`), so `status` and the metrics agree.
    package let queueGauges: QueueGauges

    public init() {
        uploads = registry.counter("imagedrop_uploads_total", help: "Images stored by the API since the daemon started.")
        uploadedBytes = registry.counter("imagedrop_uploaded_bytes_total", help: "Bytes of images stored since the daemon started.")
        retries = registry.counter("imagedrop_retries_total", help: "Attempts that ended transient and were scheduled again.")
        rateLimited = registry.counter("imagedrop_rate_limited_total", help: "Retries caused by HTTP 429 from the API.")
        requestDuration = registry.histogram("imagedrop_request_duration_seconds", buckets: Self.latencyBounds,
                                             help: "Duration of API requests, from send to the last byte of the reply.")
        queueGauges = QueueGauges(registry: registry)
        // The pre-flight series exists from the start, so the family is there (at 0) before the first failure.
        _ = failures(code: "local")
    }

    private func failures(code: String) -> Metrics.Counter {
        registry.counter("imagedrop_failures_total", [("code", code)],
                         help: "Jobs failed permanently, by Cloudflare error code (\"local\" for pre-flight checks).")
    }

    package func sourceUploads(_ source: String) -> Metrics.Counter {
        registry.counter("imagedrop_source_uploads_total", [("source", source)],
                         help: "Images stored by the API since the daemon started, by source.")
    }

    public var snapshot: Snapshot { state.withLock { $0 } }

    public func recordRequest(seconds: Double) {
        state.withLock { state in
            state.requests += 1
            let index = Self.latencyBounds.firstIndex { seconds <= $0 } ?? Self.latencyBounds.count
            state.latencyBuckets[index] += 1
            state.latencySum += seconds
            state.latencyCount += 1
        }
        requestDuration.record(seconds)
    }

    public func recordUpload(bytes: Int, at now: UInt64, source: String = SourceSettings.defaultName) {
        state.withLock { state in
            state.uploads += 1
            state.uploadsBySource[source, default: 0] += 1
            state.uploadedBytes += bytes
            state.lastUploadMonotonicNanos = now
        }
        uploads.increment()
        uploadedBytes.increment(by: bytes)
        sourceUploads(source).increment()
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
        retries.increment()
        if rateLimited { self.rateLimited.increment() }
    }

    public func recordFailure(code: Int?) {
        let code = code.map(String.init) ?? "local"
        state.withLock { state in state.failuresByCode[code, default: 0] += 1 }
        failures(code: code).increment()
    }
}
