import ArgumentParser
import ImagedropSystem
import ImagedropStore
import ImagedropPipeline
import ImagedropDaemon

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Counts per state, oldest waiting job, recent failures and whether the daemon runs — from the database alone.",
        discussion: """
            Examples:
              imagedrop status
              imagedrop status --check && echo healthy      # for monitoring scripts, like systemctl is-active

            Exit codes: 0 ok; 65 the database cannot be read; 78 config error. With --check (one line) or
            --exit-code (the usual output) the code tells the daemon's state instead: 0 running, 1 not running
            and its last stop was not clean, 2 running but paused, 3 not running.
            """
    )

    @OptionGroup var options: ConfigOption
    @Flag(name: .long, help: "Print one JSON object for scripts.") var json = false
    @Flag(name: .long, help: "Print one line (running / paused / not running / did not stop cleanly) and exit 0 only when running and not paused.")
    var check = false
    @Flag(name: .customLong("exit-code"), help: "Print the usual output, and exit as --check does.")
    var exitCode = false

    func run() throws {
        let config = try options.load()
        let report: StatusReport
        do {
            report = try StatusReport.load(database: config.queue.database, sources: config.sourceNames)
        } catch {
            Console.error("cannot read the job table \(config.queue.database): \(error)")
            throw ExitCode(Daemon.Exit.noInput.rawValue)
        }
        if check, !json {
            Console.out(report.healthLine)
        } else {
            Console.out(json ? JobRendering.json(report.jsonObject) : report.text)
        }
        if check || exitCode, report.health != .running { throw ExitCode(report.health.rawValue) }
    }
}
