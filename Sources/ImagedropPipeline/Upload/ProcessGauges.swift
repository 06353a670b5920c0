import ImagedropSupport
import ImagedropSystem
import Metrics

/// The families every Prometheus exporter has, under their standard names: what the build is (`*_build_info`,
/// always 1, the facts in its labels, so a version can be joined onto any series) and the process's own figures.
package final class ProcessGauges: Sendable {
    private let startTime: Metrics.Gauge
    private let residentMemory: Metrics.Gauge
    private let openFileDescriptors: Metrics.Gauge

    package init(registry: MetricsRegistry) {
        registry.gauge(
            "imagedrop_build_info", [("version", ImagedropVersion.current), ("commit", BuildInfo.commit)],
            help: "Always 1; the labels say which imagedrop runs."
        ).record(1)
        startTime = registry.gauge(
            "process_start_time_seconds", help: "Start time of the process since unix epoch in seconds.")
        residentMemory = registry.gauge("process_resident_memory_bytes", help: "Resident memory size in bytes.")
        openFileDescriptors = registry.gauge("process_open_fds", help: "Number of open file descriptors.")
    }

    /// A figure /proc did not give keeps its last value (0 before the first).
    package func record(_ stats: ProcessStats) {
        if let value = stats.startTimeSeconds { startTime.record(value) }
        if let value = stats.residentMemoryBytes { residentMemory.record(value) }
        if let value = stats.openFileDescriptors { openFileDescriptors.record(value) }
    }
}
