import Foundation
@preconcurrency import Glibc
import ProcessHarness

// imagedrop-soak [--minutes N] [--seed S] [--keep] [--bin DIR]: one seeded randomized run of the release
// daemon against the release emulator, then the invariants. Exit 0 only when every check passed.

signal(SIGPIPE, SIG_IGN)

var options = Options()
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--minutes": options.minutes = arguments.next().flatMap(Double.init) ?? options.minutes
    case "--seed": options.seed = arguments.next().flatMap { UInt64($0) } ?? options.seed
    case "--keep": options.keep = true
    case "--hosts": options.hosts = arguments.next().flatMap { Int($0) } ?? options.hosts
    case "--bin": options.binDirectory = arguments.next() ?? options.binDirectory
    default:
        FileHandle.standardError.write(
            Data("usage: imagedrop-soak [--minutes N] [--seed S] [--keep] [--bin DIR] [--hosts N]\n".utf8))
        exit(64)
    }
}
guard (1...16).contains(options.hosts) else {
    FileHandle.standardError.write(Data("--hosts must be in [1, 16]\n".utf8))
    exit(64)
}
guard options.minutes > 0, options.minutes <= 24 * 60 else {
    FileHandle.standardError.write(Data("--minutes must be in (0, 1440]\n".utf8))
    exit(64)
}

let replay =
    "scripts/soak.sh --minutes \(options.minutes.formatted()) --seed \(options.seed)"
    + (options.hosts > 1 ? " --hosts \(options.hosts)" : "")
let soak: Soak
do {
    soak = try Soak(options: options)
} catch {
    print("soak: cannot start: \(error)")
    print("soak: 0 checks passed, 1 failed (seed \(options.seed))")
    exit(1)
}
soak.log(
    "seed \(options.seed), \(options.minutes.formatted()) min, folder \(soak.world.root), emulator \(soak.emulator.baseURL), workers \(soak.settings.workersText)"
)
var checks: [Check] = []
do {
    try soak.run()
    let scheduleSeconds = soak.now - soak.startedAt
    let settled = try soak.settle()
    let fleetCheck = soak.settleFleet(timeout: 120 + options.minutes * 10)
    checks = try soak.checkInvariants(settled: settled)
    if let fleetCheck { checks.append(fleetCheck) }
    let operations = soak.operations.values.reduce(0, +)
    let kills = soak.lives.filter { $0.end == "SIGKILL" }.count
    let terms = soak.lives.filter { $0.end == "SIGTERM" }.count
    print("")
    print(
        "schedule: \(operations) operations in \(String(format: "%.1f", scheduleSeconds / 60)) min (\(String(format: "%.0f", Double(operations) / (scheduleSeconds / 60))) per minute); \(soak.lives.count) daemon lives, \(kills) kill -9 survived, \(terms) SIGTERM; \(soak.model.files) files written (\(soak.model.validWrites) images, \(soak.model.badWrites) bad)"
    )
    for (name, count) in soak.operations.sorted(by: { $0.key < $1.key }) { print("  \(count)\t\(name)") }
    print(
        "API fault periods: "
            + soak.faults.periods.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
    print("")
} catch {
    checks.append(Check(name: "the soak ran to its end", passed: false, figure: "\(error)"))
}
soak.stopDaemon(kill: true)
soak.stopFleet()
soak.notify.stop()
soak.emulator.stop()

for check in checks {
    print("\(check.passed ? "PASS" : "FAIL")  \(check.name): \(check.figure)")
    for detail in check.details { print("        \(detail)") }
}
let failed = checks.filter { !$0.passed }.count
if failed > 0 || options.keep {
    print("kept: \(soak.world.root) (daemon.log, imagedrop.toml, state/, actions.log, notify.log, emulator-log.json)")
} else {
    Files.removeTree(soak.world.root)
}
if failed > 0 { print("replay: \(replay) --keep") }
print("soak: \(checks.count - failed) checks passed, \(failed) failed (seed \(options.seed))")
exit(failed == 0 ? 0 : 1)
