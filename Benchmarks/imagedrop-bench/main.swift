import ArgumentParser
import Foundation
@preconcurrency import Glibc
import ProcessHarness

// imagedrop-bench: runs the release `imagedrop` against the release `imagedrop-emulator` on loopback and
// prints each figure next to a baseline measured in the same run (see scripts/bench.sh and issue 6).
//
//   imagedrop-bench --imagedrop PATH --emulator PATH [--out DIR] [--only small,latency,...,sink,auto,batch,reconcile,fleet] [--runs N] [--quick]

signal(SIGPIPE, SIG_IGN)

/// The command line, parsed by ArgumentParser (usage, --help and errors with exit 64 come from it).
struct Options: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imagedrop-bench",
        abstract: "Runs the release imagedrop against the release emulator on loopback and prints each figure.")

    static let scenarios = [
        "small", "latency", "large", "burst", "close", "history", "budget", "reload", "sink", "auto", "batch",
        "reconcile", "fleet",
    ]

    @Option(help: "The release imagedrop binary.")
    var imagedrop: String

    @Option(help: "The release imagedrop-emulator binary.")
    var emulator: String

    @Option(name: .customLong("out"), help: "Folder the results are written to.")
    var output = "bench-results"

    @Option(
        help: ArgumentHelp("Scenarios to run, comma-separated.", valueName: scenarios.joined(separator: ",")),
        transform: { Set($0.split(separator: ",").map(String.init)) })
    var only: Set<String>?

    @Option(help: "Run each scenario this many times; each figure is its median run (by ratio, else value).")
    var runs = 1

    @Flag(help: "Smaller workloads, for a quick look.")
    var quick = false

    @Flag(help: "Keep the scratch folder.")
    var keep = false

    func validate() throws {
        for (flag, path) in [("--imagedrop", imagedrop), ("--emulator", emulator)] where access(path, X_OK) != 0 {
            throw ValidationError("\(flag) must name an executable (got '\(path)')")
        }
        if let only, !only.isSubset(of: Self.scenarios) {
            throw ValidationError("--only takes \(Self.scenarios.joined(separator: ","))")
        }
    }
}

let options = Options.parseOrExit()
let root = try Files.makeTemporaryDirectory(prefix: "imagedrop-bench")
let started = Clock.monotonicSeconds()
var report = Report(
    date: ISO8601DateFormatter().string(from: Date()), machine: Machine.current(),
    command: CommandLine.arguments.joined(separator: " "))
let bench = try Bench(imagedrop: options.imagedrop, emulatorBinary: options.emulator, root: root, quick: options.quick)
Bench.log("emulator at \(bench.emulator.baseURL); scratch \(root)")

let plan: [(String, () throws -> [Figure])] = [
    // The large files run after the ingest figures: writing and deleting 800 MB leaves the filesystem busy
    // with writeback for a while, which slows the creation of 20,000 files that follows it.
    ("small", { [try bench.smallFiles()] }),
    ("latency", { [try bench.latencyBound()] }),
    ("burst", { [try bench.ingestBurst()] }),
    ("close", { [try bench.closeToUpload()] }),
    ("large", { [try bench.largeFiles()] }),
    ("history", { try bench.history() }),
    ("budget", { [try bench.budget()] }),
    ("reload", { [try bench.reloadDuringRescan()] }),
    ("sink", { try bench.sinkFigures() }),
    ("auto", { try bench.autoLatency() }),
    ("batch", { try bench.autoBatch() }),
    ("reconcile", { [try bench.reconcile(), try bench.reconcileRebuild()] }),
    ("fleet", { try bench.fleetFigures() }),
]
for (name, run) in plan where options.only?.contains(name) ?? true {
    sync()  // the previous scenario's writeback (800 MB of large files) must not slow this one down
    let start = Clock.monotonicSeconds()
    do {
        let figures = Figure.medians(try (0..<max(1, options.runs)).map { _ in try run() })
        report.figures += figures
        for figure in figures {
            Bench.log(
                "\(figure.title): \(Report.format(figure.value)) \(figure.unit)"
                    + (figure.ratio.map { ", ratio \(Report.format($0))" } ?? "")
                    + (figure.met.map { $0 ? " (target met)" : " (target MISSED)" } ?? ""))
        }
    } catch {
        Bench.log("\(name) failed: \(error)")
        report.figures.append(
            Figure(
                key: name, title: name, value: .nan, unit: "", target: "", met: false,
                notes: ["failed: \(error)"]))
    }
    Bench.log("\(name) took \(Report.format(Clock.monotonicSeconds() - start)) s")
}
bench.emulator.stop()
report.totalSeconds = Clock.monotonicSeconds() - started
report.loadAverageEnd = Report.loadAverage()
if !options.keep { Files.removeTree(root) }

print(report.markdown())
print("")
print("total \(Report.format(report.totalSeconds)) s")
do {
    let path = try report.write(to: options.output)
    print("results written to \(path)")
} catch {
    Bench.log("cannot write results: \(error)")
    exit(1)
}
