/// A strict-enough reader of the Prometheus text format: every sample must belong to a family announced by
/// HELP and TYPE lines before it, and every line must be one of the three shapes. The metrics tests of the Pipeline
/// (what PipelineMetrics renders) and of the Daemon (what MetricsWriter writes) read through it.
package struct Exposition {
    package struct Malformed: Error, CustomStringConvertible {
        package let description: String
    }

    package var help: [String: String] = [:]
    package var types: [String: String] = [:]
    package var samples: [(name: String, labels: [String: String], value: Double)] = []

    package init(_ text: String) throws {
        guard text.hasSuffix("\n") else { throw Malformed(description: "no newline at the end") }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ", maxSplits: 3)
                guard parts.count == 4 else { throw Malformed(description: "bad comment line: \(line)") }
                if parts[1] == "HELP" {
                    help[String(parts[2])] = String(parts[3])
                } else {
                    types[String(parts[2])] = String(parts[3])
                }
                continue
            }
            let pattern = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/
            guard let match = try pattern.wholeMatch(in: String(line)) else {
                throw Malformed(description: "bad sample line: \(line)")
            }
            var labels: [String: String] = [:]
            for pair in (match.2.map(String.init) ?? "").matches(of: /([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/) {
                labels[String(pair.1)] = String(pair.2)
            }
            let name = String(match.1)
            let family = ["_bucket", "_sum", "_count"].reduce(name) { result, suffix in
                types[name] == nil && name.hasSuffix(suffix) ? String(name.dropLast(suffix.count)) : result
            }
            guard help[family] != nil && types[family] != nil else {
                throw Malformed(description: "sample before its HELP/TYPE: \(line)")
            }
            guard let value = match.3 == "+Inf" ? Double.infinity : Double(String(match.3)) else {
                throw Malformed(description: "bad value: \(line)")
            }
            samples.append((name, labels, value))
        }
    }

    package func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }
}
