import Foundation
import Glibc
import ImagedropSupport
import ImagedropTestSupport
import Testing

@testable import ImagedropDaemon
@testable import ImagedropPipeline
@testable import ImagedropStore
@testable import ImagedropSystem

@Suite("MetricsWriter")
struct MetricsWriterTests {
    /// Known events recorded through the daemon's own recording functions (swift-metrics into the registry).
    private func fixture() -> (PipelineMetrics, QueueSnapshot) {
        let metrics = PipelineMetrics()
        for seconds in [0.003, 0.2, 0.2, 0.7, 400] { metrics.recordRequest(seconds: seconds) }
        metrics.recordUpload(bytes: 1000, at: 1)
        metrics.recordUpload(bytes: 24, at: 2, source: "avatars")
        metrics.recordRetry(rateLimited: true)
        metrics.recordRetry(rateLimited: false)
        metrics.recordFailure(code: 5455)
        metrics.recordFailure(code: nil)
        metrics.recordFailure(code: nil)
        var queue = QueueSnapshot()
        queue.counts = [.queued: 312, .uploading: 4, .retrying: 1, .done: 9000, .failed: 2]
        queue.sourceCounts = [
            "default": [.queued: 312, .done: 8999], "avatars": [.uploading: 4, .done: 1], "products": [:],
        ]
        return (metrics, queue)
    }

    @Test("Every family has its HELP and TYPE, and the counters and gauges carry the recorded figures")
    func families() throws {
        let (metrics, queue) = fixture()
        let concurrency = ConcurrencyLimiter.Snapshot(
            current: 12, maximum: 64, mode: .auto, bound: .latency, inFlight: 9)
        var readings = GaugeReadings(
            queue: queue, oldestWaitingSeconds: 42, pause: .credentials, concurrency: concurrency)
        var webhooks = WebhookBacklog()
        webhooks.pending = 3
        webhooks.dead = 1
        readings.webhooks = webhooks
        readings.budgetRemaining = 1187
        readings.lastSuccessSeconds = 1_764_000_123.5
        readings.process = ProcessStats(
            startTimeSeconds: 1_764_000_000.25, residentMemoryBytes: 31_457_280, openFileDescriptors: 23)
        let parsed = try Exposition(metrics.exposition(readings))

        let expected: [String: (String, String)] = [
            "imagedrop_up": ("gauge", "1 while the daemon runs; 0 after a clean stop."),
            "imagedrop_jobs": ("gauge", "Jobs in the table by state."),
            "imagedrop_source_jobs": ("gauge", "Jobs in the table by source and state."),
            "imagedrop_uploads_total": ("counter", "Images stored by the API since the daemon started."),
            "imagedrop_source_uploads_total": (
                "counter", "Images stored by the API since the daemon started, by source."
            ),
            "imagedrop_uploaded_bytes_total": ("counter", "Bytes of images stored since the daemon started."),
            "imagedrop_failures_total": (
                "counter", #"Jobs failed permanently, by Cloudflare error code ("local" for pre-flight checks)."#
            ),
            "imagedrop_retries_total": ("counter", "Attempts that ended transient and were scheduled again."),
            "imagedrop_rate_limited_total": ("counter", "Retries caused by HTTP 429 from the API."),
            "imagedrop_request_duration_seconds": (
                "histogram", "Duration of API requests, from send to the last byte of the reply."
            ),
            "imagedrop_oldest_waiting_seconds": (
                "gauge", "Age of the oldest queued or retrying job; 0 when nothing waits."
            ),
            "imagedrop_paused": (
                "gauge",
                "1 for the reason the queue is paused (credentials, unreachable, quota, operator); all 0 while it is not."
            ),
            "imagedrop_build_info": ("gauge", "Always 1; the labels say which imagedrop runs."),
            "imagedrop_last_success_timestamp_seconds": (
                "gauge",
                "Unix time when a job last ended done (from the job table, pruned history included); 0 if none ever did."
            ),
            "imagedrop_webhook_deliveries": (
                "gauge", "Webhook deliveries in the outbox: pending (to be sent or retried) and dead (gave up)."
            ),
            "imagedrop_budget_remaining": (
                "gauge", "API requests the budget (upload.requests_per_5min) still allows in its current window."
            ),
            "imagedrop_write_behind_waiting": (
                "gauge",
                "Uploads answered whose done row waits for the writer thread (at its cap the workers wait too)."
            ),
            "process_start_time_seconds": ("gauge", "Start time of the process since unix epoch in seconds."),
            "process_resident_memory_bytes": ("gauge", "Resident memory size in bytes."),
            "process_open_fds": ("gauge", "Number of open file descriptors."),
            "imagedrop_concurrency_limit": (
                "gauge", #"Uploads allowed in flight now (upload.workers, or what "auto" chose)."#
            ),
            "imagedrop_concurrency_max": ("gauge", "The most uploads in flight allowed (workers or max_workers)."),
            "imagedrop_concurrency_in_flight": ("gauge", "Uploads in flight now."),
            "imagedrop_concurrency_bound": (
                "gauge",
                "1 for what holds the concurrency where it is (budget, latency, backoff, fixed, idle, max_workers)."
            ),
        ]
        #expect(Set(parsed.types.keys) == Set(expected.keys))
        #expect(parsed.value("imagedrop_concurrency_limit", ["mode": "auto"]) == 12)
        #expect(parsed.value("imagedrop_concurrency_max") == 64 && parsed.value("imagedrop_concurrency_in_flight") == 9)
        #expect(parsed.value("imagedrop_concurrency_bound", ["bound": "latency"]) == 1)
        #expect(parsed.value("imagedrop_concurrency_bound", ["bound": "budget"]) == 0)
        for (name, (type, help)) in expected {
            #expect(parsed.types[name] == type, "\(name)")
            #expect(parsed.help[name] == help, "\(name)")
        }
        #expect(parsed.value("imagedrop_up") == 1)
        #expect(parsed.value("imagedrop_jobs", ["state": "queued"]) == 312)
        #expect(parsed.value("imagedrop_jobs", ["state": "done"]) == 9000)
        #expect(parsed.samples.filter { $0.name == "imagedrop_jobs" }.count == JobState.allCases.count)
        #expect(parsed.value("imagedrop_uploads_total") == 2)
        #expect(parsed.value("imagedrop_uploaded_bytes_total") == 1024)
        #expect(parsed.value("imagedrop_failures_total", ["code": "5455"]) == 1)
        #expect(parsed.value("imagedrop_failures_total", ["code": "local"]) == 2)
        #expect(parsed.value("imagedrop_retries_total") == 2)
        #expect(parsed.value("imagedrop_rate_limited_total") == 1)
        #expect(parsed.value("imagedrop_oldest_waiting_seconds") == 42)
        #expect(parsed.value("imagedrop_paused", ["reason": "credentials"]) == 1)
        #expect(parsed.value("imagedrop_paused", ["reason": "unreachable"]) == 0)
        #expect(
            parsed.value("imagedrop_build_info", ["version": ImagedropVersion.current, "commit": BuildInfo.commit]) == 1
        )
        #expect(parsed.value("imagedrop_last_success_timestamp_seconds") == 1_764_000_123.5)
        #expect(parsed.value("imagedrop_webhook_deliveries", ["state": "pending"]) == 3)
        #expect(parsed.value("imagedrop_webhook_deliveries", ["state": "dead"]) == 1)
        #expect(parsed.value("imagedrop_budget_remaining") == 1187)
        #expect(parsed.value("process_start_time_seconds") == 1_764_000_000.25)
        #expect(parsed.value("process_resident_memory_bytes") == 31_457_280)
        #expect(parsed.value("process_open_fds") == 23)
    }

    @Test(
        "Per-source families: every configured source has its series (0 before its first upload), labels in source,state order"
    )
    func perSource() throws {
        let (metrics, queue) = fixture()
        let text = metrics.exposition(GaugeReadings(queue: queue, oldestWaitingSeconds: nil))
        let parsed = try Exposition(text)
        #expect(text.contains(#"imagedrop_source_jobs{source="avatars",state="done"} "#))
        #expect(parsed.value("imagedrop_source_jobs", ["source": "avatars", "state": "uploading"]) == 4)
        #expect(parsed.value("imagedrop_source_jobs", ["source": "default", "state": "done"]) == 8999)
        #expect(parsed.value("imagedrop_source_jobs", ["source": "products", "state": "failed"]) == 0)
        #expect(parsed.samples.filter { $0.name == "imagedrop_source_jobs" }.count == 3 * JobState.allCases.count)
        #expect(parsed.value("imagedrop_source_uploads_total", ["source": "default"]) == 1)
        #expect(parsed.value("imagedrop_source_uploads_total", ["source": "avatars"]) == 1)
        #expect(parsed.value("imagedrop_source_uploads_total", ["source": "products"]) == 0)
    }

    @Test("Queue gauges follow the table at each emit; a source removed by a reload loses its job series")
    func gaugesFollowTheTable() throws {
        let (metrics, first) = fixture()
        _ = metrics.exposition(GaugeReadings(queue: first, oldestWaitingSeconds: 9, pause: .credentials))
        var queue = QueueSnapshot()
        queue.counts = [.done: 9001]
        queue.sourceCounts = ["default": [.done: 9000], "avatars": [.done: 1]]
        let parsed = try Exposition(metrics.exposition(GaugeReadings(queue: queue, oldestWaitingSeconds: nil)))
        #expect(parsed.value("imagedrop_jobs", ["state": "queued"]) == 0)
        #expect(parsed.value("imagedrop_jobs", ["state": "done"]) == 9001)
        #expect(parsed.value("imagedrop_oldest_waiting_seconds") == 0)
        #expect(parsed.samples.filter { $0.name == "imagedrop_paused" }.map(\.value) == [0, 0, 0, 0])
        #expect(!parsed.samples.contains { $0.name == "imagedrop_source_jobs" && $0.labels["source"] == "products" })
        #expect(parsed.value("imagedrop_source_jobs", ["source": "avatars", "state": "uploading"]) == 0)
    }

    @Test("Before any event: every family is there, the failure family with its pre-flight series at 0")
    func freshDaemon() throws {
        let parsed = try Exposition(
            PipelineMetrics().exposition(GaugeReadings(queue: QueueSnapshot(), oldestWaitingSeconds: nil)))
        #expect(parsed.value("imagedrop_failures_total", ["code": "local"]) == 0)
        #expect(parsed.value("imagedrop_uploads_total") == 0)
        #expect(parsed.value("imagedrop_request_duration_seconds_count") == 0)
        #expect(parsed.value("imagedrop_jobs", ["state": "done"]) == 0)
    }

    @Test("Two daemons in one process keep separate registries")
    func separateRegistries() throws {
        let (busy, queue) = fixture()
        let idle = PipelineMetrics()
        let parsedIdle = try Exposition(idle.exposition(GaugeReadings(queue: queue, oldestWaitingSeconds: nil)))
        let parsedBusy = try Exposition(busy.exposition(GaugeReadings(queue: queue, oldestWaitingSeconds: nil)))
        #expect(parsedIdle.value("imagedrop_uploads_total") == 0)
        #expect(parsedBusy.value("imagedrop_uploads_total") == 2)
    }

    @Test("Histogram buckets are cumulative, end in +Inf, and +Inf equals _count")
    func histogram() throws {
        let (metrics, queue) = fixture()
        let parsed = try Exposition(metrics.exposition(GaugeReadings(queue: queue, oldestWaitingSeconds: nil)))
        let buckets = parsed.samples.filter { $0.name == "imagedrop_request_duration_seconds_bucket" }
        #expect(buckets.count == PipelineMetrics.latencyBounds.count + 1)
        #expect(buckets.last?.labels["le"] == "+Inf")
        let counts = buckets.map(\.value)
        #expect(counts == counts.sorted())
        #expect(parsed.value("imagedrop_request_duration_seconds_bucket", ["le": "0.005"]) == 1)
        #expect(parsed.value("imagedrop_request_duration_seconds_bucket", ["le": "0.25"]) == 3)
        #expect(parsed.value("imagedrop_request_duration_seconds_bucket", ["le": "120.0"]) == 4)
        #expect(counts.last == 5 && parsed.value("imagedrop_request_duration_seconds_count") == 5)
        let sum = try #require(parsed.value("imagedrop_request_duration_seconds_sum"))
        #expect(abs(sum - 401.103) < 1e-9)
        #expect(parsed.value("imagedrop_oldest_waiting_seconds") == 0)
        #expect(parsed.samples.filter { $0.name == "imagedrop_paused" }.map(\.value) == [0, 0, 0, 0])
    }

    @Test("The file is replaced atomically, readable by node_exporter despite the unit's umask, no temp left")
    func writesFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/imagedrop.prom"
        let (metrics, queue) = fixture()
        let writer = MetricsWriter(path: path)

        let previous = umask(0o027)
        defer { umask(previous) }
        try writer.write(text: metrics.exposition(GaugeReadings(queue: queue, oldestWaitingSeconds: 1)))
        try writer.write(text: metrics.exposition(GaugeReadings(queue: queue, oldestWaitingSeconds: 7, up: false)))

        let text = try String(contentsOfFile: path, encoding: .utf8)
        let parsed = try Exposition(text)
        #expect(parsed.value("imagedrop_oldest_waiting_seconds") == 7)
        #expect(parsed.value("imagedrop_up") == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["imagedrop.prom"])
        var info = stat()
        try #require(stat(path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o644)
    }

    @Test("A missing directory is reported with the path and errno")
    func missingDirectory() {
        #expect {
            try MetricsWriter(path: "/nonexistent-imagedrop/imagedrop.prom").write(text: "imagedrop_up 1\n")
        } throws: { error in
            let error = error as? MetricsWriteError
            return error?.errno == ENOENT && error?.description.contains("/nonexistent-imagedrop/") == true
        }
    }
}
