import Foundation
import ProcessHarness

/// Figure 6: an emulator enforcing 120 requests per 60 s (its own process), the daemon configured to match
/// (`requests_per_5min = 120`, `rate_window_s = 60`), uploads for two windows: how much of the budget is
/// used, and whether any request was refused with 429.
extension Bench {
    func budget() throws -> Figure {
        let limit = quick ? 20 : 120
        let window = quick ? 10 : 60
        let budgetEmulator = try Emulator(
            binary: emulatorBinary,
            arguments: ["--rate-limit", "\(limit)", "--rate-window", "\(window)"], scratch: root)
        defer { budgetEmulator.stop() }
        let workspace = self.workspace("budget")
        let files = limit * 3 + 50
        try Files.makeImages(count: files, bytes: 5_000, in: workspace.inbox, seedBase: 6_000_000)
        // `workers = "auto"` (issue 13): the concurrency must find the budget's bound by itself.
        var settings = Workspace.Settings(requestsPerWindow: limit, rateWindowSeconds: window)
        settings.autoWorkers = true
        try workspace.writeConfig(emulator: budgetEmulator, settings)
        Bench.log("budget: \(limit) requests / \(window) s for \(2 * window) s")
        let daemon = try DaemonProcess(binary: imagedrop, workspace: workspace, emulator: budgetEmulator)
        let runSeconds = Double(2 * window) + 1
        daemon.waitUntil(timeout: runSeconds, interval: 0.05) { _ in false }  // samples VmHWM meanwhile
        let done = daemon.counts.done()
        let usage = daemon.stop()
        let log = try budgetEmulator.requestLog()
        Files.removeTree(workspace.directory)

        let first = log.map(\.micros).min() ?? 0
        let horizon = first + Int64(2 * window) * 1_000_000
        let inHorizon = log.filter { $0.micros < horizon }
        let accepted = inHorizon.filter { $0.status != 429 }.count
        let refused = log.filter { $0.status == 429 }.count
        let perWindow = Double(accepted) / 2
        // The busiest sliding window anywhere in the run, to show the limit itself was never crossed.
        let times = log.filter { $0.status != 429 }.map(\.micros).sorted()
        var busiest = 0
        var lower = 0
        for upper in times.indices {
            while times[upper] - times[lower] >= Int64(window) * 1_000_000 { lower += 1 }
            busiest = max(busiest, upper - lower + 1)
        }
        let use = perWindow / Double(limit)
        var figure = Figure(
            key: "budget", title: "Budget (\(limit) req / \(window) s enforced, auto)", value: perWindow,
            unit: "req accepted / \(window) s", baseline: Double(limit), baselineLabel: "budget",
            ratio: use, target: "≥ 98%, zero 429s", met: use >= 0.98 && refused == 0,
            peakRSSMiB: usage?.maxRSSMiB, cpuSecondsPer1000Uploads: Bench.cpuPer1000(usage, uploads: done))
        figure.details = [
            "accepted_in_two_windows": Double(accepted), "responses_429": Double(refused),
            "busiest_sliding_window": Double(busiest), "requests_total": Double(log.count),
            "run_seconds": runSeconds,
        ]
        figure.notes.append(
            "\(refused) × 429; busiest sliding \(window) s window held \(busiest) accepted requests; counted over the \(2 * window) s from the first request"
        )
        return figure
    }
}
