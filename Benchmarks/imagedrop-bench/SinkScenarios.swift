import ProcessHarness
import Foundation

/// Issue 13's throughput figures: to an nginx sink (not bounded by the emulator) beside `xargs -P 8 curl` to
/// the same sink.
extension Bench {
    private func curlToSink(_ directory: String, _ sink: NginxSink) throws -> (seconds: Double, usage: ResourceUsage?) {
        let script = """
            cd "$1" && ls | grep '\\.png$' | xargs -P 8 -I{} curl -s -f -o /dev/null -H "Authorization: Bearer x" -F "file=@{}" "$2"
            """
        let result = try ChildProcess.run("/bin/sh", ["-c", script, "sh", directory, sink.uploadURL],
                                          environment: ["PATH": "/usr/bin:/bin"], scratch: root)
        guard result.status == 0 else { throw SpawnError(description: "curl to the sink failed: \(result.errors)") }
        return (result.seconds, result.usage)
    }

    func sinkFigures() throws -> [Figure] {
        let sink = try NginxSink(scratch: root)
        defer { sink.stop() }
        var figures: [Figure] = []

        let count = self.count(2_000, quick: 200)
        let small = self.workspace("sink-small")
        try Files.makeImages(count: count, bytes: 50_000, in: small.inbox, seedBase: 5_000_000)
        Bench.log("sink, small files: imagedrop (auto), \(count) × 50 KB")
        var autoSettings = Workspace.Settings(requestsPerWindow: 0)
        autoSettings.autoWorkers = true
        autoSettings.apiBaseURL = sink.apiBaseURL
        try small.writeConfig(emulator: emulator, autoSettings)
        let run = try drain(small, count: count)
        let curl = try curlToSink(small.inbox, sink)
        let rate = Double(count) / run.seconds, curlRate = Double(count) / curl.seconds
        Files.removeTree(small.directory)
        let cpu = Bench.cpuPer1000(run.usage, uploads: count)
        var figure = Figure(key: "sink_small", title: "nginx sink, small files (\(count) × 50 KB, auto)", value: rate,
                            unit: "files/s", baseline: curlRate, baselineLabel: "files/s xargs -P 8 curl",
                            ratio: rate / curlRate, target: "≥ 10×; CPU ≤ 0.25 s / 1k", met: rate / curlRate >= 10 && (cpu ?? 9) <= 0.25,
                            peakRSSMiB: run.usage?.maxRSSMiB, cpuSecondsPer1000Uploads: cpu)
        figure.details = ["imagedrop_seconds": run.seconds, "curl_seconds": curl.seconds,
                          "failed": Double(run.counts["failed"] ?? 0)]
        figures.append(figure)

        let large = self.workspace("sink-large")
        let largeCount = self.count(50, quick: 8)
        try Files.makeImages(count: largeCount, bytes: 8_000_000, in: large.inbox, seedBase: 6_000_000)
        let totalMB = Double(Files.totalSize(of: large.inbox)) / 1e6
        var largeSettings = Workspace.Settings(workers: 64, requestsPerWindow: 0)
        largeSettings.apiBaseURL = sink.apiBaseURL
        try large.writeConfig(emulator: emulator, largeSettings)
        Bench.log("sink, large files: imagedrop (64 workers), \(largeCount) × 8 MB")
        let largeRun = try drain(large, count: largeCount)
        let largeCurl = try curlToSink(large.inbox, sink)
        Files.removeTree(large.directory)
        let mbps = totalMB / largeRun.seconds, curlMbps = totalMB / largeCurl.seconds
        var largeFigure = Figure(key: "sink_large", title: "nginx sink, large files (\(largeCount) × 8 MB, 64 workers)",
                                 value: mbps, unit: "MB/s", baseline: curlMbps, baselineLabel: "MB/s xargs -P 8 curl",
                                 ratio: mbps / curlMbps, target: "≥ 1.0×; RSS ≤ 40 MB at 64 workers",
                                 met: mbps / curlMbps >= 1 && (largeRun.usage?.maxRSSMiB ?? 99) <= 40 * 1e6 / 1_048_576,
                                 peakRSSMiB: largeRun.usage?.maxRSSMiB,
                                 cpuSecondsPer1000Uploads: Bench.cpuPer1000(largeRun.usage, uploads: largeCount))
        largeFigure.details = ["imagedrop_seconds": largeRun.seconds, "curl_seconds": largeCurl.seconds]
        figures.append(largeFigure)
        return figures
    }
}
