import Foundation
import ProcessHarness

/// One measured figure with its same-run baseline, the target it is held to, and what the daemon cost.
struct Figure: Codable {
    var key: String
    var title: String
    var value: Double
    var unit: String
    var baseline: Double?
    var baselineLabel: String?
    /// value / baseline, or baseline / value where lower is better (see `lowerIsBetter`).
    var ratio: Double?
    var target: String
    var met: Bool?
    var peakRSSMiB: Double?
    var cpuSecondsPer1000Uploads: Double?
    var details: [String: Double] = [:]
    var notes: [String] = []
}

struct Machine: Codable {
    var cpu: String
    var cores: Int
    var memoryGiB: Double
    var kernel: String
    var swift: String

    static func current() -> Machine {
        let cpuinfo = Files.readText("/proc/cpuinfo") ?? ""
        let model =
            cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) }
            ?? "unknown"
        let meminfo = Files.readText("/proc/meminfo") ?? ""
        let kib =
            meminfo.split(separator: "\n").first { $0.hasPrefix("MemTotal") }
            .flatMap { $0.split(separator: " ").dropFirst().first.flatMap { Double($0) } } ?? 0
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return Machine(
            cpu: model, cores: ProcessInfo.processInfo.activeProcessorCount,
            memoryGiB: (kib / 1_048_576 * 10).rounded() / 10, kernel: release,
            swift: (try? ChildProcess.run(
                "/usr/bin/env", ["swift", "--version"], environment: ProcessInfo.processInfo.environment,
                scratch: "/tmp"
            ).output)?
            .split(separator: "\n").first.map(String.init) ?? "unknown")
    }
}

struct Report: Codable {
    var date: String
    var machine: Machine
    var command: String
    var totalSeconds: Double = 0
    /// /proc/loadavg before and after: the machine is shared, and other work skews the figures.
    var loadAverageStart = Report.loadAverage()
    var loadAverageEnd = ""
    var figures: [Figure] = []

    static func loadAverage() -> String {
        (Files.readText("/proc/loadavg") ?? "").split(separator: " ").prefix(3).joined(separator: " ")
    }

    func write(to directory: String) throws -> String {
        Files.makeDirectory(directory)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let stamp = date.replacingOccurrences(of: ":", with: "").replacingOccurrences(of: "T", with: "-")
            .prefix(17)
        let path = directory + "/\(stamp).json"
        let data = try encoder.encode(self)
        try Files.write(Array(data), to: path)
        return path
    }

    /// The table, as GitHub Markdown (it reads fine in a terminal too).
    func markdown() -> String {
        var lines = [
            "imagedrop benchmark — \(date), \(machine.cpu), \(machine.cores) cores, \(machine.memoryGiB) GiB, Linux \(machine.kernel)",
            "load average (1/5/15 min) before: \(loadAverageStart), after: \(loadAverageEnd)",
            "",
            "| figure | imagedrop | baseline (same run) | ratio | target | met | peak RSS | CPU s / 1k uploads |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for figure in figures {
            let baseline = figure.baseline.map { "\(Self.format($0)) \(figure.baselineLabel ?? "")" } ?? "—"
            let ratio = figure.ratio.map { Self.format($0) + "×" } ?? "—"
            let met = figure.met.map { $0 ? "yes" : "**no**" } ?? "—"
            let rss = figure.peakRSSMiB.map { Self.format($0) + " MiB" } ?? "—"
            let cpu = figure.cpuSecondsPer1000Uploads.map { Self.format($0) } ?? "—"
            lines.append(
                "| \(figure.title) | \(Self.format(figure.value)) \(figure.unit) | \(baseline) | \(ratio) | \(figure.target) | \(met) | \(rss) | \(cpu) |"
            )
        }
        lines.append("")
        for figure in figures where !figure.notes.isEmpty {
            for note in figure.notes { lines.append("- \(figure.title): \(note)") }
        }
        return lines.joined(separator: "\n")
    }

    static func format(_ value: Double) -> String {
        guard value.isFinite else { return "n/a" }
        let magnitude = abs(value)
        if magnitude >= 100 { return String(Int(value.rounded())) }
        if magnitude >= 10 { return String(format: "%.1f", value) }
        if magnitude >= 0.1 { return String(format: "%.2f", value) }
        return String(format: "%.3f", value)
    }
}
