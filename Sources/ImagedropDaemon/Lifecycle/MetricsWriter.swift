import ImagedropSupport
import ImagedropSystem
import ImagedropStore
import ImagedropPipeline
import Glibc

/// Prometheus text exposition (format 0.0.4) written to a file for node_exporter's textfile collector
/// (`--collector.textfile.directory`), every `[metrics] interval_s`.
///
/// Why a textfile rather than an HTTP listener: the hardened unit then opens no port at all (nothing to
/// bind, firewall or authenticate, and `RestrictAddressFamilies` stays about outbound API traffic only);
/// node_exporter already runs on most hosts that are scraped, so there is no new scrape target to
/// register; and the last figures survive a restart or crash of the daemon, while
/// `node_textfile_mtime_seconds` tells an alert when the file went stale (alert on
/// `time() - node_textfile_mtime_seconds{file=~".*imagedrop.prom"} > 3 * interval_s`).
///
/// The file is replaced atomically (temp file in the same directory, then `rename(2)`), so the collector
/// never reads half a file. The temp name does not end in `.prom`, so the collector never picks it up.
public struct MetricsWriter: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    public func write(
        metrics: PipelineMetrics.Snapshot, queue: QueueSnapshot, oldestWaitingSeconds: Int?, paused: Bool,
        up: Bool = true, concurrency: ConcurrencyLimiter.Snapshot? = nil
    ) throws {
        let text = Self.render(
            metrics: metrics, queue: queue, oldestWaitingSeconds: oldestWaitingSeconds, paused: paused, up: up,
            concurrency: concurrency)
        try write(text: text)
    }

    public func write(text: String) throws {
        try replaceAtomically(with: Array(text.utf8))
    }

    /// `up: false` is for the last write on a clean stop, so a dashboard shows "stopped" rather than the
    /// last figures of a daemon that looks alive.
    public static func render(
        metrics: PipelineMetrics.Snapshot, queue: QueueSnapshot, oldestWaitingSeconds: Int?, paused: Bool,
        up: Bool = true, concurrency: ConcurrencyLimiter.Snapshot? = nil
    ) -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        func sample(_ name: String, _ value: String) { out += "\(name) \(value)\n" }
        func sample(_ name: String, _ labels: [(String, String)], _ value: String) {
            let rendered = labels.map { "\($0.0)=\"\(escapeLabel($0.1))\"" }.joined(separator: ",")
            out += "\(name){\(rendered)} \(value)\n"
        }

        family("imagedrop_up", "gauge", "1 while the daemon runs; 0 after a clean stop.")
        sample("imagedrop_up", up ? "1" : "0")

        family("imagedrop_jobs", "gauge", "Jobs in the table by state.")
        for state in JobState.allCases { sample("imagedrop_jobs", [("state", state.rawValue)], "\(queue.counts[state] ?? 0)") }

        // Per source as their own families: the unlabelled totals above and below keep their meaning for
        // existing dashboards, and `sum()` over these gives the same numbers.
        family("imagedrop_source_jobs", "gauge", "Jobs in the table by source and state.")
        for source in queue.sourceCounts.keys.sorted() {
            for state in JobState.allCases {
                sample("imagedrop_source_jobs", [("source", source), ("state", state.rawValue)],
                       "\(queue.sourceCounts[source]?[state] ?? 0)")
            }
        }

        family("imagedrop_uploads_total", "counter", "Images stored by the API since the daemon started.")
        sample("imagedrop_uploads_total", "\(metrics.uploads)")
        family("imagedrop_source_uploads_total", "counter", "Images stored by the API since the daemon started, by source.")
        for source in metrics.uploadsBySource.keys.sorted() {
            sample("imagedrop_source_uploads_total", [("source", source)], "\(metrics.uploadsBySource[source]!)")
        }
        family("imagedrop_uploaded_bytes_total", "counter", "Bytes of images stored since the daemon started.")
        sample("imagedrop_uploaded_bytes_total", "\(metrics.uploadedBytes)")

        family("imagedrop_failures_total", "counter",
               "Jobs failed permanently, by Cloudflare error code (\"local\" for pre-flight checks).")
        for code in metrics.failuresByCode.keys.sorted() {
            sample("imagedrop_failures_total", [("code", code)], "\(metrics.failuresByCode[code]!)")
        }

        family("imagedrop_retries_total", "counter", "Attempts that ended transient and were scheduled again.")
        sample("imagedrop_retries_total", "\(metrics.retries)")
        family("imagedrop_rate_limited_total", "counter", "Retries caused by HTTP 429 from the API.")
        sample("imagedrop_rate_limited_total", "\(metrics.rateLimited)")

        let histogram = "imagedrop_request_duration_seconds"
        family(histogram, "histogram", "Duration of API requests, from send to the last byte of the reply.")
        var cumulative = 0
        for (index, bound) in PipelineMetrics.latencyBounds.enumerated() {
            cumulative += metrics.latencyBuckets[index]
            sample("\(histogram)_bucket", [("le", "\(bound)")], "\(cumulative)")
        }
        // The overflow bucket is the last entry of `latencyBuckets`; +Inf must equal _count.
        cumulative += metrics.latencyBuckets.last ?? 0
        sample("\(histogram)_bucket", [("le", "+Inf")], "\(cumulative)")
        sample("\(histogram)_sum", "\(metrics.latencySum)")
        sample("\(histogram)_count", "\(metrics.latencyCount)")

        family("imagedrop_oldest_waiting_seconds", "gauge",
               "Age of the oldest queued or retrying job; 0 when nothing waits.")
        sample("imagedrop_oldest_waiting_seconds", "\(oldestWaitingSeconds ?? 0)")
        family("imagedrop_paused", "gauge", "1 while the queue is paused (e.g. the API refused the token).")
        sample("imagedrop_paused", paused ? "1" : "0")

        if let concurrency {
            family("imagedrop_concurrency_limit", "gauge",
                   "Uploads allowed in flight now (upload.workers, or what \"auto\" chose).")
            sample("imagedrop_concurrency_limit", [("mode", concurrency.mode.rawValue)], "\(concurrency.current)")
            family("imagedrop_concurrency_max", "gauge", "The most uploads in flight allowed (workers or max_workers).")
            sample("imagedrop_concurrency_max", "\(concurrency.maximum)")
            family("imagedrop_concurrency_in_flight", "gauge", "Uploads in flight now.")
            sample("imagedrop_concurrency_in_flight", "\(concurrency.inFlight)")
            family("imagedrop_concurrency_bound", "gauge",
                   "1 for what holds the concurrency where it is (budget, latency, backoff, fixed, idle, max_workers).")
            for bound in AdaptiveConcurrency.Bound.allCases {
                sample("imagedrop_concurrency_bound", [("bound", bound.rawValue)], concurrency.bound == bound ? "1" : "0")
            }
        }
        return out
    }

    package static func escapeLabel(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    private func replaceAtomically(with bytes: [UInt8]) throws {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let temp = (directory == "/" ? "" : directory) + "/.\(base).\(getpid()).tmp"

        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw MetricsWriteError(operation: "create", path: temp, errno: errno) }
        var closed = false
        defer { if !closed { close(fd); unlink(temp) } }
        // The unit's UMask=0027 would leave the file unreadable to node_exporter's own user.
        guard fchmod(fd, 0o644) == 0 else { throw MetricsWriteError(operation: "chmod", path: temp, errno: errno) }
        do throws(SystemError) {
            try Syscall.writeAll(fd, bytes)
        } catch {
            throw MetricsWriteError(operation: "write", path: temp, errno: error.errno)
        }
        // No fsync: losing the latest figures in a power cut is harmless, and an fsync every interval
        // would stall on a busy disk for nothing.
        closed = true
        guard close(fd) == 0 else {
            let code = errno
            unlink(temp)
            throw MetricsWriteError(operation: "close", path: temp, errno: code)
        }
        guard rename(temp, path) == 0 else {
            let code = errno
            unlink(temp)
            throw MetricsWriteError(operation: "rename", path: path, errno: code)
        }
    }
}

/// Carries errno and the path so the log line tells ops which directory lacks write access
/// (usually `ReadWritePaths=` in the unit or the collector directory's group).
public struct MetricsWriteError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var path: String
    public var errno: Int32

    public var description: String {
        "cannot \(operation) metrics file \(path): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}
