/// `--runs N`: each scenario runs N times and each figure is reported from its median run (by ratio, else by
/// value), with the spread in its notes — one noisy run on a shared machine neither makes nor misses a target.
extension Figure {
    static func medians(_ runs: [[Figure]]) -> [Figure] {
        guard runs.count > 1, let first = runs.first else { return runs.first ?? [] }
        return first.map { figure in
            let samples = runs.compactMap { run in run.first { $0.key == figure.key } }
                .sorted { ($0.ratio ?? $0.value) < ($1.ratio ?? $1.value) }
            var median = samples[samples.count / 2]
            let shown = samples.map { Report.format($0.ratio ?? $0.value) + ($0.ratio == nil ? " \($0.unit)" : "×") }
            median.notes.append("median of \(samples.count) runs (\(shown.joined(separator: ", ")))")
            median.details["runs"] = Double(samples.count)
            return median
        }
    }
}
