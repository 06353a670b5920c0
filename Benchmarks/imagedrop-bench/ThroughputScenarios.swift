import Foundation
import ProcessHarness

/// Figures 1–3: throughput of small files, latency-bound uploads and large files, each against a baseline
/// measured in the same run on the same emulator.
extension Bench {
    func smallFiles() throws -> Figure {
        let count = self.count(2_000, quick: 200)
        let workspace = self.workspace("small")
        try Files.makeImages(count: count, bytes: 50_000, in: workspace.inbox, seedBase: 1_000_000)
        try emulator.reset()
        try workspace.writeConfig(emulator: emulator, .init(workers: 8, requestsPerWindow: 0))
        Bench.log("small files: imagedrop, \(count) × 50 KB")
        let run = try drain(workspace, count: count)
        let filesPerSecond = Double(count) / run.seconds
        Bench.log("small files: xargs -P 8 curl")
        let curl = try CurlBaseline.run(directory: workspace.inbox, emulator: emulator, scratch: root)
        let curlRate = Double(curl.accepted) / curl.seconds
        Files.removeTree(workspace.directory)
        var figure = Figure(
            key: "small_files", title: "Small files (\(count) × 50 KB, 8 workers)", value: filesPerSecond,
            unit: "files/s",
            baseline: curlRate, baselineLabel: "files/s xargs -P 8 curl", ratio: filesPerSecond / curlRate,
            target: "≥ 5×", met: filesPerSecond / curlRate >= 5, peakRSSMiB: run.usage?.maxRSSMiB,
            cpuSecondsPer1000Uploads: Bench.cpuPer1000(run.usage, uploads: count))
        figure.details = [
            "imagedrop_seconds": run.seconds, "curl_seconds": curl.seconds,
            "failed": Double(run.counts["failed"] ?? 0), "curl_accepted": Double(curl.accepted),
            "curl_cpu_s_per_1000": Bench.cpuPer1000(curl.usage, uploads: curl.uploads) ?? .nan,
        ]
        figure.notes.append(
            "imagedrop timed from `run` spawn (start-up and scan included) to all jobs done; curl \(Report.format(Bench.cpuPer1000(curl.usage, uploads: curl.uploads) ?? .nan)) CPU s / 1k"
        )
        return figure
    }

    func latencyBound() throws -> Figure {
        let count = self.count(1_200, quick: 200)
        let workers = 8
        let latencyMs = 20.0
        let workspace = self.workspace("latency")
        try Files.makeImages(count: count, bytes: 10_000, in: workspace.inbox, seedBase: 2_000_000)
        try emulator.reset()
        try emulator.setFaults(#"{"latencyMs": 20}"#)
        defer { try? emulator.reset() }
        let metricsPath = workspace.directory + "/metrics.prom"
        try workspace.writeConfig(
            emulator: emulator,
            .init(
                workers: workers, requestsPerWindow: 0,
                metricsTextfile: metricsPath))
        Bench.log("latency-bound: \(count) × 10 KB, 20 ms per reply")
        let run = try drain(workspace, count: count)
        let log = try emulator.requestLog().filter { $0.method == "POST" }
        let first = log.map(\.micros).min() ?? 0
        // Steady state: from the first request's arrival to the moment every job was seen done.
        let busySeconds = Double(run.finishedAtMicros - first) / 1e6
        let achieved = Double(count) / busySeconds
        let ideal = Double(workers) / (latencyMs / 1000)
        // The daemon's own view: mean time inside a request (curl send → last byte); the rest of each
        // worker's cycle is spent between requests (claim, inspect + hash, write back).
        let metrics = Files.readText(metricsPath) ?? ""
        func metric(_ name: String) -> Double? {
            metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap {
                Double($0.split(separator: " ").last ?? "")
            }
        }
        let meanRequestMs =
            (metric("imagedrop_request_duration_seconds_sum") ?? .nan)
            / (metric("imagedrop_request_duration_seconds_count") ?? .nan) * 1000
        let cycleMs = busySeconds / (Double(count) / Double(workers)) * 1000
        Files.removeTree(workspace.directory)
        var figure = Figure(
            key: "latency_bound", title: "Latency-bound (20 ms/reply, 8 workers)", value: achieved, unit: "files/s",
            baseline: ideal, baselineLabel: "files/s ideal (workers / 20 ms)", ratio: achieved / ideal,
            target: "≥ 0.97", met: achieved / ideal >= 0.97, peakRSSMiB: run.usage?.maxRSSMiB,
            cpuSecondsPer1000Uploads: Bench.cpuPer1000(run.usage, uploads: count))
        figure.details = [
            "busy_seconds": busySeconds, "spawn_to_done_seconds": run.seconds,
            "requests": Double(log.count), "spawn_to_done_files_per_s": Double(count) / run.seconds,
            "mean_request_ms": meanRequestMs, "worker_cycle_ms": cycleMs,
        ]
        figure.notes.append(
            "timed from the first request's arrival to all done (spawn → done: \(Report.format(Double(count) / run.seconds)) files/s); per worker a cycle took \(Report.format(cycleMs)) ms, of which \(Report.format(meanRequestMs)) ms inside the request (daemon's histogram)"
        )
        return figure
    }

    func largeFiles() throws -> Figure {
        let count = self.count(100, quick: 16)
        let bytes = 8_000_000
        let workspace = self.workspace("large")
        Bench.log("large files: writing \(count) × 8 MB")
        try Files.makeImages(count: count, bytes: bytes, in: workspace.inbox, seedBase: 3_000_000)
        let totalMB = Double(Files.totalSize(of: workspace.inbox)) / 1e6
        try emulator.reset()
        try workspace.writeConfig(emulator: emulator, .init(workers: 8, requestsPerWindow: 0))
        Bench.log("large files: imagedrop")
        let run = try drain(workspace, count: count)
        let rate = totalMB / run.seconds
        Bench.log("large files: xargs -P 8 curl")
        let curl = try CurlBaseline.run(directory: workspace.inbox, emulator: emulator, scratch: root)
        let curlRate = totalMB * Double(curl.accepted) / Double(count) / curl.seconds
        Files.removeTree(workspace.directory)
        let rss = run.usage?.maxRSSMiB ?? .nan
        var figure = Figure(
            key: "large_files", title: "Large files (\(count) × 8 MB, 8 workers)", value: rate, unit: "MB/s",
            baseline: curlRate, baselineLabel: "MB/s xargs -P 8 curl", ratio: rate / curlRate,
            target: "≥ 1.0×; RSS ≤ 40 MB", met: rate / curlRate >= 1.0 && rss <= 40 * 1e6 / 1_048_576,
            peakRSSMiB: run.usage?.maxRSSMiB, cpuSecondsPer1000Uploads: Bench.cpuPer1000(run.usage, uploads: count))
        figure.details = [
            "imagedrop_seconds": run.seconds, "curl_seconds": curl.seconds, "total_mb": totalMB,
            "failed": Double(run.counts["failed"] ?? 0), "curl_accepted": Double(curl.accepted),
        ]
        return figure
    }
}

extension Files {
    static func totalSize(of directory: String) -> Int {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return 0 }
        return names.reduce(0) { total, name in
            total + ((try? FileManager.default.attributesOfItem(atPath: directory + "/" + name)[.size] as? Int) ?? 0)
        }
    }
}
