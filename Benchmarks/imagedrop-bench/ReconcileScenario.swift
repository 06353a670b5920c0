import Foundation
import Glibc
import ImagedropSystem
import ProcessHarness

/// `imagedrop reconcile` of an account of 100,000 images against a ledger of 100,000 done jobs, all in
/// agreement: the wall time of the whole command, its peak RSS (the pages are streamed into a temp table, so it
/// must not grow with the account), and its requests — one list page per 1,000 images, nothing else.
extension Bench {
    func reconcile() throws -> Figure {
        let rows = count(100_000, quick: 10_000)
        let workspace = self.workspace("reconcile")
        defer { Files.removeTree(workspace.directory) }
        try workspace.writeConfig(emulator: emulator, .init(workers: 8, settleMillis: 0))
        try emulator.reset()
        Bench.log("reconcile: seeding \(rows) images and a table of \(rows) done jobs")
        _ = try emulator.admin("POST", "/__emulator/seed", body: "{\"count\": \(rows), \"idPrefix\": \"drop/\"}")
        try HistoryTable.create(path: workspace.database, rows: rows)
        // The emulator's variants (its default names, public and thumbnail), so the two sides agree.
        let database = try Database(path: workspace.database, create: false)
        try database.execute(
            """
            UPDATE jobs SET variants = json_array(
                'https://imagedelivery.net/Vi7wi5KSItxGFsWRG2Us6Q/' || image_id || '/public',
                'https://imagedelivery.net/Vi7wi5KSItxGFsWRG2Us6Q/' || image_id || '/thumbnail');
            PRAGMA wal_checkpoint(TRUNCATE);
            """)
        database.close()

        let listsBefore = try emulator.requestLog().filter { $0.path.hasSuffix("/images/v2") }.count
        let (seconds, child) = try runReconcile(
            [], in: workspace,
            expecting: "\(rows) images in the account, \(rows) done jobs: 0 missing, 0 unrecorded, 0 stale")
        let requests = try emulator.requestLog().filter { $0.path.hasSuffix("/images/v2") }.count - listsBefore
        let pages = (rows + 999) / 1000
        let label = rows >= 100_000 ? "\(rows / 1000)k" : "\(rows)"
        var figure = Figure(
            key: "reconcile", title: "Reconcile \(label) images vs a \(label)-row ledger", value: seconds,
            unit: "s", baseline: nil, baselineLabel: nil, ratio: nil,
            target: "1 request per 1,000 images", met: requests == pages)
        figure.peakRSSMiB = child.usage?.maxRSSMiB
        // CPU beside wall time: the emulator answering the pages shares the machine, and this is imagedrop's part.
        let cpu = child.usage?.cpuSeconds ?? .nan
        figure.details = [
            "requests": Double(requests), "images_per_second": Double(rows) / seconds, "cpu_seconds": cpu,
        ]
        figure.notes.append(
            "\(requests) list requests for \(rows) images; imagedrop's CPU \(Report.format(cpu)) s; "
                + "peak RSS \(Report.format(child.usage?.maxRSSMiB ?? .nan)) MiB")
        return figure
    }

    /// `imagedrop reconcile ARGS` against the bench's emulator, spawned and polled rather than `ChildProcess.run`
    /// (its peak RSS is VmHWM sampled while it runs): the wall time and the finished child, or an error with its
    /// output when it fails or does not print `expected`.
    func runReconcile(
        _ arguments: [String], in workspace: Workspace, expecting expected: String
    ) throws -> (
        seconds: Double, child: ChildProcess
    ) {
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "IMAGEDROP_CONFIG")
        environment["CLOUDFLARE_API_TOKEN"] = emulator.token
        let outPath = workspace.directory + "/reconcile.out"
        let start = Clock.monotonicSeconds()
        let child = try ChildProcess(
            imagedrop, ["reconcile"] + arguments + ["--config", workspace.configPath], environment: environment,
            stdoutPath: outPath, stderrPath: outPath + ".err")
        while !child.hasExited {
            child.sampleMemory()
            usleep(2_000)
        }
        let seconds = Clock.monotonicSeconds() - start
        let output = Files.readText(outPath) ?? ""
        guard child.exitStatus == 0, output.contains(expected) else {
            throw SpawnError(
                description: "reconcile \(arguments.joined(separator: " ")) exited \(child.exitStatus ?? -1): "
                    + "\(output.suffix(2_000)) \(Files.readText(outPath + ".err") ?? "")")
        }
        return (seconds, child)
    }
}
