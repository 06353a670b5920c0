import ArgumentParser
import ImagedropCore

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Counts per state, oldest waiting job, recent failures and whether the daemon runs — from the database alone."
    )

    @OptionGroup var options: ConfigOption
    @Flag(name: .long, help: "Print one JSON object for scripts.") var json = false

    func run() throws {
        let config = try options.load()
        let report: StatusReport
        do {
            report = try StatusReport.load(database: config.queue.database)
        } catch {
            Console.error("cannot read the job table \(config.queue.database): \(error)")
            throw ExitCode(Daemon.Exit.noInput.rawValue)
        }
        Console.out(json ? JobRendering.json(report.jsonObject) : report.text)
    }
}
