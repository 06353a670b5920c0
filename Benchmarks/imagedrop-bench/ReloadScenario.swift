import Foundation
import Glibc
import ProcessHarness

/// Figure: a SIGHUP sent while the watcher rescans a large tree is acknowledged (RELOADING=1 … READY=1) at
/// once, because the main thread never waits for the watcher (issue 11).
extension Bench {
    func reloadDuringRescan() throws -> Figure {
        let count = self.count(200_000, quick: 20_000)
        let shm =
            access("/dev/shm", W_OK) == 0
            ? try Files.makeTemporaryDirectory(prefix: "imagedrop-bench-shm", parent: "/dev/shm") : nil
        defer { if let shm { Files.removeTree(shm) } }
        let workspace = Workspace(root: root, name: "reload", inboxRoot: shm)
        try emulator.reset()
        // Refused token: nothing uploads, so the watcher and its scans are all the daemon does.
        try emulator.setFaults(#"{"refuseTokens": true}"#)
        defer { try? emulator.reset() }
        try workspace.writeConfig(
            emulator: emulator,
            .init(
                workers: 2, settleMillis: 0, shutdownGraceSeconds: 1,
                pauseProbeSeconds: 600))
        Bench.log("reload: writing \(count) files in \(count / 1000) folders")
        let bytes = [UInt8](repeating: 0x42, count: 64)
        for index in 0..<count {
            let folder = workspace.inbox + "/d\(index / 1000)"
            if index % 1000 == 0 { Files.makeDirectory(folder) }
            _ = try Files.write(bytes, to: folder + "/" + Files.name("f", index))
        }
        let socket = try NotifySocket(path: workspace.directory + "/notify.sock")
        let spawned = Clock.monotonicSeconds()
        let daemon = try DaemonProcess(
            binary: imagedrop, workspace: workspace, emulator: emulator,
            extraEnvironment: ["NOTIFY_SOCKET": socket.path])
        // READY=1 follows the start-up scan, which queues all of them: the cost of one full scan (with inserts).
        guard let ready = socket.waitForReady(timeout: 600) else {
            daemon.stop()
            throw SpawnError(description: "reload: no READY=1; see \(workspace.logPath)")
        }
        let startupScan = ready - spawned
        // The first SIGHUP asks the watcher for a full rescan of the tree; the second arrives while it runs.
        daemon.process.signal(SIGHUP)
        guard socket.waitForReady(timeout: 60) != nil else {
            daemon.stop()
            throw SpawnError(description: "reload: first SIGHUP not acknowledged")
        }
        Clock.sleep(seconds: 0.05)
        let sent = Clock.monotonicSeconds()
        daemon.process.signal(SIGHUP)
        let acknowledged = socket.waitForReady(timeout: 60)
        let usage = daemon.stop()
        Files.removeTree(workspace.directory)
        guard let acknowledged else { throw SpawnError(description: "reload: second SIGHUP not acknowledged") }
        let millis = (acknowledged - sent) * 1000
        var figure = Figure(
            key: "reload_during_rescan", title: "SIGHUP during a rescan of \(count) files → READY=1", value: millis,
            unit: "ms", baseline: startupScan, baselineLabel: "s for the start-up scan", ratio: nil,
            target: "≤ 100 ms", met: millis <= 100, peakRSSMiB: usage?.maxRSSMiB, cpuSecondsPer1000Uploads: nil)
        figure.notes.append(
            "SIGHUP sent 50 ms into the rescan the previous SIGHUP started; timed kill(2) → READY=1 datagram; the baseline is spawn → READY=1 (one full scan queueing every file)"
        )
        return figure
    }
}
