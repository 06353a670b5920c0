import ImagedropStore
import Metrics
import Synchronization

/// The daemon's figures, recorded in one place per event: into swift-metrics handles on this daemon's
/// `MetricsRegistry` (what the textfile and `GET /metrics` expose, see PipelineMetrics+Exposition.swift), and
/// into a plain snapshot for the in-process readers (STATUS= line, throughput, the `run --once` summary), which
/// a Prometheus registry cannot be read back for. Monotonic since start.
package final class PipelineMetrics: Sendable {
    package struct Snapshot: Sendable {
        package var uploads = 0
        package var uploadedBytes = 0
        package var retries = 0
        package var rateLimited = 0
        package var failuresByCode: [String: Int] = [:]
        package var latencyBuckets: [Int] = Array(repeating: 0, count: PipelineMetrics.latencyBounds.count + 1)
        package var latencySum = 0.0
        package var latencyCount = 0
        package var lastUploadMonotonicNanos: UInt64?
        package var requests = 0
        /// Jobs that ended `done` by an upload of their own, and by finding the image already stored (a 409 on
        /// a content-hash id, or an earlier send found by its job key): the `run --once` summary.
        package var doneUploaded = 0
        package var doneAlreadyStored = 0
        /// Images stored per source (`imagedrop_source_uploads_total`).
        package var uploadsBySource: [String: Int] = [:]
        package var failed: Int { failuresByCode.values.reduce(0, +) }
    }

    /// Upper bounds (seconds) of the request-latency histogram buckets.
    package static let latencyBounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]

    private let state = Mutex(Snapshot())

    package let registry = MetricsRegistry()
    private let uploads: Metrics.Counter
    private let uploadedBytes: Metrics.Counter
    private let retries: Metrics.Counter
    private let rateLimited: Metrics.Counter
    private let requestDuration: Metrics.Recorder
    /// Set from the job table right before each emit (`exposition`), so `status` and the metrics agree.
    package let queueGauges: QueueGauges

    package init() {
        uploads = registry.counter(
            "imagedrop_uploads_total", help: "Images stored by the API since the daemon started.")
        uploadedBytes = registry.counter(
            "imagedrop_uploaded_bytes_total", help: "Bytes of images stored since the daemon started.")
        retries = registry.counter(
            "imagedrop_retries_total", help: "Attempts that ended transient and were scheduled again.")
        rateLimited = registry.counter("imagedrop_rate_limited_total", help: "Retries caused by HTTP 429 from the API.")
        requestDuration = registry.histogram(
            "imagedrop_request_duration_seconds", buckets: Self.latencyBounds,
            help: "Duration of API requests, from send to the last byte of the reply.")
        queueGauges = QueueGauges(registry: registry)
        // The pre-flight series exists from the start, so the family is there (at 0) before the first failure.
        _ = failures(code: "local")
    }

    private func failures(code: String) -> Metrics.Counter {
        registry.counter(
            "imagedrop_failures_total", [("code", code)],
            help: "Jobs failed permanently, by Cloudflare error code (\"local\" for pre-flight checks).")
    }

    package func sourceUploads(_ source: String) -> Metrics.Counter {
        registry.counter(
            "imagedrop_source_uploads_total", [("source", source)],
            help: "Images stored by the API since the daemon started, by source.")
    }

    package var snapshot: Snapshot { state.withLock { $0 } }

    package func recordRequest(seconds: Double) {
        state.withLock { state in
            state.requests += 1
            let index = Self.latencyBounds.firstIndex { seconds <= $0 } ?? Self.latencyBounds.count
            state.latencyBuckets[index] += 1
            state.latencySum += seconds
            state.latencyCount += 1
        }
        requestDuration.record(seconds)
    }

    package func recordUpload(bytes: Int, at now: UInt64, source: String = SourceSettings.defaultName) {
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

    package func recordDone(alreadyStored: Bool) {
        state.withLock { state in
            if alreadyStored { state.doneAlreadyStored += 1 } else { state.doneUploaded += 1 }
        }
    }

    package func recordRetry(rateLimited: Bool) {
        state.withLock { state in
            state.retries += 1
            if rateLimited { state.rateLimited += 1 }
        }
        retries.increment()
        if rateLimited { self.rateLimited.increment() }
    }

    package func recordFailure(code: Int?) {
        let code = code.map(String.init) ?? "local"
        state.withLock { state in state.failuresByCode[code, default: 0] += 1 }
        failures(code: code).increment()
    }
}
