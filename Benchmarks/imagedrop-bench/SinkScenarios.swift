import Foundation
import ProcessHarness

/// Issue 13's throughput figures: to an nginx sink (not bounded by the emulator) beside `xargs -P 8 curl` to
/// the same sink.
extension Bench {
    private func curlToSink(_ directory: String, _ sink: NginxSink) throws -> (seconds: Double, usage: ResourceUsage?) {
        let script = """
            cd "$1" && ls | grep '\\.png$' | xargs -P 8 -I{} curl -s -f -o /dev/null -H "Authorization: Bearer x" -F "file=@{}" "$2"
            """
        let result = try ChildProcess.run(
            "/bin/sh", ["-c", script, "sh", directory, sink.uploadURL],
            environment: ["PATH": "/usr/bin:/bin"], scratch: root)
        guard result.status == 0 else { throw SpawnError(description: "curl to the sink failed: \(result.errors)") }
        return (result.seconds, result.usage)
    }

    /// Issue 25's two sets, each beside `curl --parallel --parallel-max 8` (the ratio column, the ceiling) and
    /// `xargs -P 8 curl` (in the notes) to the same sink in the same run.
    func sinkFigures() throws -> [Figure] {
        let sink = try NginxSink(scratch: root)
        defer { sink.stop() }
        var figures: [Figure] = []

        let count = self.count(2_000, quick: 200)
        let small = self.workspace("sink-small")
        try Files.makeImages(count: count, bytes: 50_000, in: small.inbox, seedBase: 5_000_000)
        Bench.log("sink, small files: imagedrop (8 workers), \(count) × 50 KB")
        var smallSettings = Workspace.Settings(workers: 8, requestsPerWindow: 0)
        smallSettings.apiBaseURL = sink.apiBaseURL
        try small.writeConfig(emulator: emulator, smallSettings)
        let nginxBefore = sink.cpuSeconds()
        let run = try drain(small, count: count)
        let nginxAfterImagedrop = sink.cpuSeconds()
        let parallel = try CurlParallelBaseline.run(directory: small.inbox, url: sink.uploadURL, scratch: root)
        let nginxAfterCurl = sink.cpuSeconds()
        func per1000(_ from: Double?, _ to: Double?) -> Double? {
            guard let from, let to else { return nil }
            return (to - from) / Double(count) * 1000
        }
        let nginxForImagedrop = per1000(nginxBefore, nginxAfterImagedrop)
        let nginxForCurl = per1000(nginxAfterImagedrop, nginxAfterCurl)
        let curl = try curlToSink(small.inbox, sink)
        // What the per-1,000 figure holds besides uploads: the same daemon, started and stopped with nothing to do.
        let empty = self.workspace("sink-empty")
        try empty.writeConfig(emulator: emulator, smallSettings)
        let startAndStop = try startAndStopCPU(empty)
        Files.removeTree(empty.directory)
        let rate = Double(count) / run.seconds
        let parallelRate = Double(count) / parallel.seconds
        let curlRate = Double(count) / curl.seconds
        let cpu = Bench.cpuPer1000(run.usage, uploads: count)
        let parallelCPU = Bench.cpuPer1000(parallel.usage, uploads: count)
        var figure = Figure(
            key: "sink_small", title: "nginx sink, small files (\(count) × 50 KB, 8 workers)", value: rate,
            unit: "files/s", baseline: parallelRate, baselineLabel: "files/s curl --parallel",
            ratio: rate / parallelRate, target: "≥ 0.5×; CPU ≤ 0.3 s / 1k",
            met: rate / parallelRate >= 0.5 && (cpu ?? 9) <= 0.3,
            peakRSSMiB: run.usage?.maxRSSMiB, cpuSecondsPer1000Uploads: cpu)
        figure.details = [
            "imagedrop_seconds": run.seconds, "curl_parallel_seconds": parallel.seconds,
            "xargs_curl_seconds": curl.seconds,
            "failed": Double(run.counts["failed"] ?? 0),
            "curl_parallel_cpu_s_per_1000": parallelCPU ?? .nan,
            "nginx_cpu_s_per_1000_imagedrop": nginxForImagedrop ?? .nan,
            "nginx_cpu_s_per_1000_curl_parallel": nginxForCurl ?? .nan,
            "start_and_stop_cpu_s": startAndStop ?? .nan,
        ]
        figure.notes.append(
            "xargs -P 8 curl \(Report.format(curlRate)) files/s (imagedrop \(Report.format(rate / curlRate))×); curl --parallel \(Report.format(parallelCPU ?? .nan)) CPU s / 1k"
        )
        if let startAndStop {
            figure.notes.append(
                "of imagedrop's CPU, its start and stop with nothing to upload: \(Report.format(startAndStop)) s, \(Report.format(startAndStop / Double(count) * 1000)) s / 1k at this count"
            )
        }
        figures.append(figure)
        do {
            figures.append(
                try smallFileFloor(
                    directory: small.inbox, count: count,
                    curlParallelCPUPer1000: parallelCPU, imagedropCPUPer1000: cpu,
                    curlParallelFilesPerSecond: parallelRate, sinkCPUPer1000: nginxForCurl))
        } catch {
            // The floor explains the sink figures; it failing must not lose them.
            Bench.log("small-file floor not measured: \(error)")
        }
        Files.removeTree(small.directory)

        let large = self.workspace("sink-large")
        let largeCount = self.count(50, quick: 8)
        try Files.makeImages(count: largeCount, bytes: 8_000_000, in: large.inbox, seedBase: 6_000_000)
        let totalMB = Double(Files.totalSize(of: large.inbox)) / 1e6
        var largeSettings = Workspace.Settings(workers: 64, requestsPerWindow: 0)
        largeSettings.apiBaseURL = sink.apiBaseURL
        try large.writeConfig(emulator: emulator, largeSettings)
        Bench.log("sink, large files: imagedrop (64 workers), \(largeCount) × 8 MB")
        let largeRun = try drain(large, count: largeCount)
        let largeParallel = try CurlParallelBaseline.run(directory: large.inbox, url: sink.uploadURL, scratch: root)
        let largeCurl = try curlToSink(large.inbox, sink)
        Files.removeTree(large.directory)
        let mbps = totalMB / largeRun.seconds
        let parallelMbps = totalMB / largeParallel.seconds
        let curlMbps = totalMB / largeCurl.seconds
        let rss = largeRun.usage?.maxRSSMiB ?? 99
        var largeFigure = Figure(
            key: "sink_large", title: "nginx sink, large files (\(largeCount) × 8 MB, 64 workers)",
            value: mbps, unit: "MB/s", baseline: parallelMbps, baselineLabel: "MB/s curl --parallel",
            ratio: mbps / parallelMbps, target: "≥ 0.9×; RSS ≤ 32 MiB at 64 workers",
            met: mbps / parallelMbps >= 0.9 && rss <= 32,
            peakRSSMiB: largeRun.usage?.maxRSSMiB,
            cpuSecondsPer1000Uploads: Bench.cpuPer1000(largeRun.usage, uploads: largeCount))
        largeFigure.details = [
            "imagedrop_seconds": largeRun.seconds, "curl_parallel_seconds": largeParallel.seconds,
            "xargs_curl_seconds": largeCurl.seconds,
        ]
        largeFigure.notes.append(
            "xargs -P 8 curl \(Report.format(curlMbps)) MB/s (imagedrop \(Report.format(mbps / curlMbps))×)")
        figures.append(largeFigure)
        return figures
    }
}
