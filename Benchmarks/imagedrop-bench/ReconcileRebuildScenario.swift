import Foundation
import Glibc
import ImagedropSystem
import ProcessHarness

/// The disaster-recovery recipe at scale: the database is gone, the account holds 100,000 images and the drop
/// folder their files. `imagedrop reconcile --fix` from an empty ledger writes one `done` job per image (each
/// file read and hashed to check it holds the image's bytes) and uploads nothing: wall time, peak RSS, requests.
extension Bench {
    func reconcileRebuild() throws -> Figure {
        let rows = count(100_000, quick: 10_000)
        let workspace = self.workspace("reconcile-rebuild")
        defer { Files.removeTree(workspace.directory) }
        try workspace.writeConfig(emulator: emulator, .init(workers: 8, settleMillis: 0))
        try emulator.reset()
        Bench.log("reconcile --fix: seeding \(rows) images and writing their \(rows) files; no database")
        // `"files": true`: each image's sha256 is that of the file the emulator names in its source_path —
        // `seeded/NNNNNNNN.png` holding the number in decimal and a newline — which is what is written here.
        _ = try emulator.admin(
            "POST", "/__emulator/seed", body: "{\"count\": \(rows), \"idPrefix\": \"drop/\", \"files\": true}")
        let folder = workspace.inbox + "/seeded"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for number in 1...rows {
            let path = folder + "/" + String(format: "%08d", number) + ".png"
            let bytes = Array("\(number)\n".utf8)
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard fd >= 0, write(fd, bytes, bytes.count) == bytes.count else {
                throw SpawnError(description: "cannot write \(path): errno \(errno)")
            }
            close(fd)
        }

        let before = try emulator.requestLog()
        let (seconds, child) = try runReconcile(
            ["--fix"], in: workspace, expecting: "fixed: 0 queued again, \(rows) recorded, 0 refreshed; 0 left")
        let after = try emulator.requestLog()
        let lists =
            after.filter { $0.path.hasSuffix("/images/v2") }.count
            - before.filter { $0.path.hasSuffix("/images/v2") }.count
        let uploads = after.filter { $0.method == "POST" }.count - before.filter { $0.method == "POST" }.count
        let done = try Database(path: workspace.database, create: false)
        defer { done.close() }
        let statement = try done.prepare("SELECT count(*) FROM jobs WHERE state = 'done'")
        let recorded = try statement.step() ? Int(statement.int64(0)) : 0
        let pages = (rows + 999) / 1000
        let label = rows >= 100_000 ? "\(rows / 1000)k" : "\(rows)"
        var figure = Figure(
            key: "reconcile-rebuild", title: "Rebuild a \(label)-row ledger from an empty one (reconcile --fix)",
            value: seconds, unit: "s", baseline: nil, baselineLabel: nil, ratio: nil,
            target: "\(label) done rows, 0 uploads, 1 request per 1,000 images",
            met: recorded == rows && uploads == 0 && lists == pages)
        figure.peakRSSMiB = child.usage?.maxRSSMiB
        let cpu = child.usage?.cpuSeconds ?? .nan
        figure.details = [
            "requests": Double(lists), "uploads": Double(uploads), "rows_per_second": Double(rows) / seconds,
            "cpu_seconds": cpu,
        ]
        figure.notes.append(
            "\(recorded) done rows written, \(uploads) uploads, \(lists) list requests; imagedrop's CPU "
                + "\(Report.format(cpu)) s; peak RSS \(Report.format(child.usage?.maxRSSMiB ?? .nan)) MiB")
        return figure
    }
}
