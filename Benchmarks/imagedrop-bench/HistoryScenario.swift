import Foundation
import ImagedropStore
import ImagedropSystem
import ProcessHarness

/// Figure 5: the cost of `status`, `claim` and start-up with 1,000,000 done jobs in the table, against the
/// same with 1,000. The ratio is what matters: nothing the daemon does per job may scan its history.
extension Bench {
    struct HistoryMeasurement {
        var statusMillis: Double
        var claimMicros: Double
        var enqueueMicros: Double
        var startupMillis: Double
        var startupRSSMiB: Double
        var buildSeconds: Double
    }

    func measureHistory(rows: Int, name: String) throws -> HistoryMeasurement {
        let workspace = self.workspace(name)
        try workspace.writeConfig(emulator: emulator, .init(workers: 8, settleMillis: 0))
        Bench.log("history: building a table of \(rows) done jobs")
        let buildStart = Clock.monotonicSeconds()
        try HistoryTable.create(path: workspace.database, rows: rows)
        let buildSeconds = Clock.monotonicSeconds() - buildStart

        // `status --json`: the binary end to end, median of 5 after one warm-up.
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "IMAGEDROP_CONFIG")
        var statusTimes: [Double] = []
        for run in 0..<6 {
            let result = try ChildProcess.run(
                imagedrop, ["status", "--json", "--config", workspace.configPath],
                environment: environment, scratch: root)
            guard result.status == 0, result.output.contains("\"done\"") else {
                throw SpawnError(description: "status --json failed (\(result.status)): \(result.output)")
            }
            if run > 0 { statusTimes.append(result.seconds * 1000) }
        }

        // Start-up: spawn → READY=1, median of 5; the daemon is stopped after each.
        var startupTimes: [Double] = []
        var startupRSS: [Double] = []
        for _ in 0..<5 {
            let socket = try NotifySocket(path: workspace.directory + "/notify.sock")
            let daemon = try DaemonProcess(
                binary: imagedrop, workspace: workspace, emulator: emulator,
                extraEnvironment: ["NOTIFY_SOCKET": socket.path])
            guard let ready = socket.waitForReady(timeout: 60) else {
                daemon.stop()
                throw SpawnError(description: "no READY=1 with \(rows) rows; see \(workspace.logPath)")
            }
            startupTimes.append((ready - daemon.spawnedAt) * 1000)
            let usage = daemon.stop()
            startupRSS.append(usage?.maxRSSMiB ?? .nan)
        }

        // claim: in-process through JobStore, a few hundred jobs queued on top of the history.
        let store = try JobStore(path: workspace.database)
        let batch = 300
        let candidates = (0..<batch).map { index in
            FileCandidate(
                path: RawPath(workspace.inbox + "/" + Files.name("claim", index)), root: RawPath(workspace.inbox),
                size: 50_000, mtimeNanos: 1_800_000_000_000_000_000 + Int64(index))
        }
        let enqueueStart = Clock.monotonicNanos()
        _ = try store.enqueue(candidates)
        let enqueueMicros = Double(Clock.monotonicNanos() - enqueueStart) / 1000 / Double(batch)
        var claimTimes: [Double] = []
        for _ in 0..<batch {
            let start = Clock.monotonicNanos()
            guard try store.claim(leaseMillis: 60_000) != nil else { break }
            claimTimes.append(Double(Clock.monotonicNanos() - start) / 1000)
        }
        Files.removeTree(workspace.directory)
        return HistoryMeasurement(
            statusMillis: Stats.median(statusTimes), claimMicros: Stats.median(claimTimes),
            enqueueMicros: enqueueMicros, startupMillis: Stats.median(startupTimes),
            startupRSSMiB: startupRSS.max() ?? .nan, buildSeconds: buildSeconds)
    }

    func history() throws -> [Figure] {
        let big = self.count(1_000_000, quick: 100_000)
        let small = 1_000
        let few = try measureHistory(rows: small, name: "history-small")
        let many = try measureHistory(rows: big, name: "history-big")
        let label = big >= 1_000_000 ? "1M" : "\(big / 1000)k"
        func figure(_ key: String, _ title: String, _ value: Double, _ base: Double, _ unit: String) -> Figure {
            Figure(
                key: key, title: "History \(label) vs 1k: \(title)", value: value, unit: "\(unit) (\(label))",
                baseline: base, baselineLabel: "\(unit) (1k)", ratio: value / base, target: "≤ 2×",
                met: value / base <= 2)
        }
        var status = figure("history_status", "`status --json`", many.statusMillis, few.statusMillis, "ms")
        status.details = ["build_seconds_big": many.buildSeconds]
        var claim = figure("history_claim", "claim", many.claimMicros, few.claimMicros, "µs")
        claim.details = ["enqueue_us_big": many.enqueueMicros, "enqueue_us_small": few.enqueueMicros]
        claim.notes.append(
            "enqueue of 300 in one transaction: \(Report.format(many.enqueueMicros)) µs/job (\(label)) vs \(Report.format(few.enqueueMicros)) µs/job (1k)"
        )
        var startup = figure("history_startup", "start-up to READY=1", many.startupMillis, few.startupMillis, "ms")
        startup.peakRSSMiB = many.startupRSSMiB
        startup.details = ["rss_mib_big": many.startupRSSMiB, "rss_mib_small": few.startupRSSMiB]
        startup.notes.append(
            "peak RSS of an idle daemon: \(Report.format(many.startupRSSMiB)) MiB (\(label)) vs \(Report.format(few.startupRSSMiB)) MiB (1k)"
        )
        return [status, claim, startup]
    }
}
