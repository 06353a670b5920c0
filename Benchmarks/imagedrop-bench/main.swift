import ProcessHarness
import Foundation
@preconcurrency import Glibc

// imagedrop-bench: runs the release `imagedrop` against the release `imagedrop-emulator` on loopback and
// prints each figure next to a baseline measured in the same run (see scripts/bench.sh and issue 6).
//
//   imagedrop-bench --imagedrop PATH --emulator PATH [--out DIR] [--only small,latency,large,burst,close,history,budget,reload] [--quick]

signal(SIGPIPE, SIG_IGN)

struct Options {
    var imagedrop = ""
    var emulator = ""
    var output = "bench-results"
    var only: Set<String>?
    var quick = false
    var keep = false

    static let scenarios = ["small", "latency", "large", "burst", "close", "history", "budget", "reload", "sink", "auto"]

    static func parse(_ arguments: [String]) -> Options {
        var options = Options()
        var iterator = arguments.dropFirst().makeIterator()
        func value(_ flag: String) -> String {
            guard let next = iterator.next() else { fail("\(flag) needs a value") }
            return next
        }
        while let argument = iterator.next() {
            switch argument {
            case "--imagedrop": options.imagedrop = value(argument)
            case "--emulator": options.emulator = value(argument)
            case "--out": options.output = value(argument)
            case "--only": options.only = Set(value(argument).split(separator: ",").map(String.init))
            case "--quick": options.quick = true
            case "--keep": options.keep = true
            case "-h", "--help":
                print("usage: imagedrop-bench --imagedrop PATH --emulator PATH [--out DIR] [--only \(scenarios.joined(separator: ","))] [--quick] [--keep]")
                exit(0)
            default: fail("unknown argument \(argument)")
            }
        }
        for (flag, path) in [("--imagedrop", options.imagedrop), ("--emulator", options.emulator)]
            where access(path, X_OK) != 0 {
            fail("\(flag) must name an executable (got '\(path)')")
        }
        if let only = options.only, !only.isSubset(of: scenarios) { fail("--only takes \(scenarios.joined(separator: ","))") }
        return options
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("imagedrop-bench: \(message)\n".utf8))
        exit(64)
    }
}

let options = Options.parse(CommandLine.arguments)
let root = try Files.makeTemporaryDirectory(prefix: "imagedrop-bench")
let started = Clock.monotonicSeconds()
var report = Report(date: ISO8601DateFormatter().string(from: Date()), machine: Machine.current(),
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
]
for (name, run) in plan where options.only?.contains(name) ?? true {
    sync()   // the previous scenario's writeback (800 MB of large files) must not slow this one down
    let start = Clock.monotonicSeconds()
    do {
        let figures = try run()
        report.figures += figures
        for figure in figures {
            Bench.log("\(figure.title): \(Report.format(figure.value)) \(figure.unit)"
                      + (figure.ratio.map { ", ratio \(Report.format($0))" } ?? "")
                      + (figure.met.map { $0 ? " (target met)" : " (target MISSED)" } ?? ""))
        }
    } catch {
        Bench.log("\(name) failed: \(error)")
        report.figures.append(Figure(key: name, title: name, value: .nan, unit: "", target: "", met: false,
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
