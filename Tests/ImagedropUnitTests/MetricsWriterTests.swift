import Foundation
import Glibc
@testable import ImagedropSystem
@testable import ImagedropStore
@testable import ImagedropPipeline
@testable import ImagedropDaemon
import Testing

/// A strict-enough reader of the Prometheus text format: every sample must belong to a family announced by
/// HELP and TYPE lines before it, and every line must be one of the three shapes.
private struct Exposition {
    var help: [String: String] = [:]
    var types: [String: String] = [:]
    var samples: [(name: String, labels: [String: String], value: Double)] = []

    init(_ text: String) throws {
        try #require(text.hasSuffix("\n"))
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ", maxSplits: 3)
                try #require(parts.count == 4, "bad comment line: \(line)")
                if parts[1] == "HELP" { help[String(parts[2])] = String(parts[3]) } else { types[String(parts[2])] = String(parts[3]) }
                continue
            }
            let pattern = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/
            let match = try #require(try pattern.wholeMatch(in: String(line)), "bad sample line: \(line)")
            var labels: [String: String] = [:]
            for pair in (match.2.map(String.init) ?? "").matches(of: /([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/) {
                labels[String(pair.1)] = String(pair.2)
            }
            let name = String(match.1)
            let family = ["_bucket", "_sum", "_count"].reduce(name) { result, suffix in
                types[name] == nil && name.hasSuffix(suffix) ? String(name.dropLast(suffix.count)) : result
            }
            try #require(help[family] != nil && types[family] != nil, "sample before its HELP/TYPE: \(line)")
            let value = match.3 == "+Inf" ? Double.infinity : try #require(Double(String(match.3)))
            samples.append((name, labels, value))
        }
    }

    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }
}

@Suite("MetricsWriter")
struct MetricsWriterTests {
    private func fixture() -> (PipelineMetrics.Snapshot, QueueSnapshot) {
        let metrics = PipelineMetrics()
        for seconds in [0.003, 0.2, 0.2, 0.7, 400] { metrics.recordRequest(seconds: seconds) }
        metrics.recordUpload(bytes: 1000, at: 1)
        metrics.recordUpload(bytes: 24, at: 2)
        metrics.recordRetry(rateLimited: true)
        metrics.recordRetry(rateLimited: false)
        metrics.recordFailure(code: 5455)
        metrics.recordFailure(code: nil)
        metrics.recordFailure(code: nil)
        var queue = QueueSnapshot()
        queue.counts = [.queued: 312, .uploading: 4, .retrying: 1, .done: 9000, .failed: 2]
        return (metrics.snapshot, queue)
    }

    @Test("Every family has HELP and TYPE, and the counters and gauges carry the snapshot's figures")
    func families() throws {
        let (metrics, queue) = fixture()
        let text = MetricsWriter.render(metrics: metrics, queue: queue, oldestWaitingSeconds: 42, paused: true)
        let parsed = try Exposition(text)

        #expect(parsed.types["imagedrop_jobs"] == "gauge")
        #expect(parsed.types["imagedrop_uploads_total"] == "counter")
        #expect(parsed.types["imagedrop_request_duration_seconds"] == "histogram")
        #expect(parsed.value("imagedrop_up") == 1)
        #expect(parsed.value("imagedrop_jobs", ["state": "queued"]) == 312)
        #expect(parsed.value("imagedrop_jobs", ["state": "done"]) == 9000)
        #expect(parsed.value("imagedrop_uploads_total") == 2)
        #expect(parsed.value("imagedrop_uploaded_bytes_total") == 1024)
        #expect(parsed.value("imagedrop_failures_total", ["code": "5455"]) == 1)
        #expect(parsed.value("imagedrop_failures_total", ["code": "local"]) == 2)
        #expect(parsed.value("imagedrop_retries_total") == 2)
        #expect(parsed.value("imagedrop_rate_limited_total") == 1)
        #expect(parsed.value("imagedrop_oldest_waiting_seconds") == 42)
        #expect(parsed.value("imagedrop_paused") == 1)
    }

    @Test("Histogram buckets are cumulative, end in +Inf, and +Inf equals _count")
    func histogram() throws {
        let (metrics, queue) = fixture()
        let parsed = try Exposition(
            MetricsWriter.render(metrics: metrics, queue: queue, oldestWaitingSeconds: nil, paused: false))
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
        #expect(parsed.value("imagedrop_paused") == 0)
    }

    @Test("The file is replaced atomically, readable by node_exporter despite the unit's umask, no temp left")
    func writesFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/imagedrop.prom"
        let (metrics, queue) = fixture()
        let writer = MetricsWriter(path: path)

        let previous = umask(0o027)
        defer { umask(previous) }
        try writer.write(metrics: metrics, queue: queue, oldestWaitingSeconds: 1, paused: false)
        try writer.write(metrics: metrics, queue: queue, oldestWaitingSeconds: 7, paused: false, up: false)

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
        let (metrics, queue) = fixture()
        #expect {
            try MetricsWriter(path: "/nonexistent-imagedrop/imagedrop.prom")
                .write(metrics: metrics, queue: queue, oldestWaitingSeconds: nil, paused: false)
        } throws: { error in
            let error = error as? MetricsWriteError
            return error?.errno == ENOENT && error?.description.contains("/nonexistent-imagedrop/") == true
        }
    }
}
