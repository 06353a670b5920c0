import Metrics
import Prometheus
import Synchronization

/// One daemon's metrics: swift-metrics handles created against a `PrometheusCollectorRegistry` this object owns,
/// and the registry's text exposition (for the textfile and `GET /metrics` alike).
///
/// Why not `MetricsSystem.bootstrap`: it can run once per process, and the tests run several daemons in one
/// process; each daemon (its `PipelineMetrics`) gets its own registry instead, passed explicitly as the factory.
/// Why our own factory rather than `PrometheusMetricsFactory`: that one registers every family with an empty
/// HELP, and the registry refuses (fatally) a second registration of a name with a different HELP, so the
/// families' help texts would be lost. Ours looks the help (and histogram buckets) up by name.
package final class MetricsRegistry: Sendable {
    private let registry = PrometheusCollectorRegistry()
    private let factory: DescribedPrometheusFactory

    package init() { factory = DescribedPrometheusFactory(registry: registry) }

    package func counter(_ name: String, _ labels: [(String, String)] = [], help: String) -> Metrics.Counter {
        factory.describe(name, help: help)
        return Metrics.Counter(label: name, dimensions: labels, factory: factory)
    }

    package func gauge(_ name: String, _ labels: [(String, String)] = [], help: String) -> Metrics.Gauge {
        factory.describe(name, help: help)
        return Metrics.Gauge(label: name, dimensions: labels, factory: factory)
    }

    /// A histogram of plain values (seconds), so the `le` labels read as the bounds are written (`0.005`, `120.0`).
    package func histogram(_ name: String, buckets: [Double], help: String) -> Metrics.Recorder {
        factory.describe(name, help: help, buckets: buckets)
        return Metrics.Recorder(label: name, dimensions: [], aggregate: true, factory: factory)
    }

    /// Prometheus text format 0.0.4. Families come in the registry's (hash) order; each family's lines together.
    package func render() -> String { registry.emitToString() }
}

/// A `MetricsFactory` over one registry that carries each family's HELP text and histogram buckets.
package struct DescribedPrometheusFactory: MetricsFactory {
    private struct Description: Sendable {
        var help: String
        var buckets: [Double]?
    }

    package let registry: PrometheusCollectorRegistry
    private let descriptions = SharedDescriptions()

    package init(registry: PrometheusCollectorRegistry) { self.registry = registry }

    package func describe(_ name: String, help: String, buckets: [Double]? = nil) {
        descriptions.table.withLock { $0[name] = Description(help: help, buckets: buckets) }
    }

    /// The whole name as `metricName` (an empty unit adds no suffix), so the family name is the label as given.
    private func descriptor(_ label: String) -> MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: label, unitName: "", helpText: descriptions.table.withLock { $0[label]?.help } ?? "")
    }

    package func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    package func makeFloatingPointCounter(
        label: String, dimensions: [(String, String)]
    ) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    package func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(descriptor: descriptor(label), labels: dimensions) }
        let buckets = descriptions.table.withLock { $0[label]?.buckets } ?? PipelineMetrics.latencyBounds
        return registry.makeValueHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets)
    }

    package func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }

    package func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        let buckets = (descriptions.table.withLock { $0[label]?.buckets } ?? PipelineMetrics.latencyBounds)
            .map { Duration.nanoseconds(Int64($0 * 1e9)) }
        return registry.makeDurationHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets)
    }

    package func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    package func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    package func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
        if let histogram = handler as? ValueHistogram { registry.unregisterValueHistogram(histogram) }
    }

    package func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    package func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? DurationHistogram { registry.unregisterDurationHistogram(histogram) }
    }

    /// A class so the struct factory (copied into every handle) shares one table.
    private final class SharedDescriptions: Sendable {
        let table = Mutex<[String: Description]>([:])
    }
}
