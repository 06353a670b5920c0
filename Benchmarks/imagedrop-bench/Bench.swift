import Foundation
import ProcessHarness

/// What every scenario shares: the release binaries, a scratch root, and the emulator process.
final class Bench {
    let imagedrop: String
    let emulatorBinary: String
    let root: String
    let emulator: Emulator
    let quick: Bool

    init(imagedrop: String, emulatorBinary: String, root: String, quick: Bool) throws {
        self.imagedrop = imagedrop
        self.emulatorBinary = emulatorBinary
        self.root = root
        self.quick = quick
        // Every run maps the daemon as one started at boot would, whoever wrote or read the file last (its resident
        // code depends on it: PageCache).
        if let problem = PageCache.pageInByExec(imagedrop, arguments: ["--version"], scratch: root) {
            Bench.log("page cache left as it was: \(problem); peak RSS figures may read up to 4.5 MiB higher")
        }
        emulator = try Emulator(binary: emulatorBinary, scratch: root)
    }

    /// Scales counts down in `--quick` mode (a smoke run of the bench itself, not a measurement).
    func count(_ full: Int, quick small: Int) -> Int { quick ? small : full }

    func workspace(_ name: String) -> Workspace { Workspace(root: root, name: name) }

    static func log(_ message: String) {
        FileHandle.standardError.write(Data("[bench] \(message)\n".utf8))
    }

    /// Starts the daemon on `workspace`, waits until `count` jobs are finished, stops it.
    /// Returns (seconds from spawn to all finished, counts, usage).
    func drain(
        _ workspace: Workspace, count: Int, timeout: Double = 300
    )
        throws -> (seconds: Double, counts: [String: Int], usage: ResourceUsage?, finishedAtMicros: Int64)
    {
        let daemon = try DaemonProcess(binary: imagedrop, workspace: workspace, emulator: emulator)
        let ok = daemon.waitUntil(timeout: timeout) { ($0["done"] ?? 0) + ($0["failed"] ?? 0) >= count }
        let finishedAt = Clock.realtimeMicros()
        let seconds = Clock.monotonicSeconds() - daemon.spawnedAt
        let counts = daemon.counts.read() ?? [:]
        let usage = daemon.stop()
        guard ok else {
            throw SpawnError(
                description: "daemon did not finish \(count) jobs in \(timeout) s: \(counts); see \(workspace.logPath)")
        }
        return (seconds, counts, usage, finishedAt)
    }

    /// The CPU seconds of the daemon's start and stop alone: started on `workspace` (an empty drop folder), given
    /// `settle` seconds once its table answers, stopped. Part of every drain's figure, whatever the number of files.
    func startAndStopCPU(_ workspace: Workspace, settle: Double = 0.3) throws -> Double? {
        let daemon = try DaemonProcess(binary: imagedrop, workspace: workspace, emulator: emulator)
        let started = daemon.waitUntil(timeout: 30) { _ in true }
        if started { _ = daemon.waitUntil(timeout: settle) { _ in false } }
        let usage = daemon.stop()
        guard started else { throw SpawnError(description: "daemon did not start; see \(workspace.logPath)") }
        return usage?.cpuSeconds
    }

    static func cpuPer1000(_ usage: ResourceUsage?, uploads: Int) -> Double? {
        guard let usage, uploads > 0 else { return nil }
        return usage.cpuSeconds / Double(uploads) * 1000
    }
}
