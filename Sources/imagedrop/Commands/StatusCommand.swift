import ArgumentParser
import ImagedropDaemon
import ImagedropStore

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract:
            "Counts per state, oldest waiting job, recent failures and whether the daemon runs — from the database alone.",
        discussion: """
            Examples:
              imagedrop status
              imagedrop status --check && echo healthy      # for monitoring scripts, like systemctl is-active

            Exit codes: 0 ok (zero counts when the database's folder exists and the file does not yet); 65 the
            database's folder does not exist, or the database cannot be read (not a database, damaged); 77 this
            user may not read it; 78 the config file cannot be read (a file that does not load is a warning: the
            database it names is read anyway). With --check (one line) or --exit-code (the usual output) the code
            tells the daemon's state instead: 0 running, 1 not running and its last stop was not clean, 2 running
            but paused, 3 not running, 4 running but not responding (holds its lock, no heartbeat for 3 intervals
            of 5 s); 65 and 77 as above.
            """
    )

    @OptionGroup var options: ConfigOption
    @Flag(name: .long, help: "Print one JSON object for scripts.") var json = false
    @Flag(
        name: .long,
        help:
            "Print one line (running / paused / not responding / not running / did not stop cleanly) and exit 0 only when running, responding and not paused."
    )
    var check = false
    @Flag(name: .customLong("exit-code"), help: "Print the usual output, and exit as --check does.")
    var exitCode = false

    func run() throws {
        let reading = try options.loadForReading()
        let report: StatusReport
        do {
            report = try StatusReport.load(database: reading.database, sources: reading.config?.sourceNames)
        } catch {
            // Never zero counts for a table that is there and cannot be read, with --check too: a monitoring
            // script must not read "not running" into a permission problem.
            throw ConfigOption.exit(for: error)
        }
        if check, !json {
            Console.out(report.healthLine)
        } else {
            Console.out(json ? JobRendering.json(report.jsonObject) : report.text)
        }
        if check || exitCode, report.health != .running { throw ExitCode(report.health.rawValue) }
    }
}
