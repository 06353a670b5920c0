import ArgumentParser
import ImagedropDaemon
import ImagedropStore

struct PauseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "Stop sending: the local daemon takes no new upload until `imagedrop resume` (jobs stay queued).",
        discussion: """
            Recorded in the database: it holds whether a daemon runs or not and across restarts. The running \
            daemon notices within a second or two; uploads already in flight finish, jobs waiting for the request \
            budget go back to the queue, no attempt is counted. `status` shows `paused by operator: TEXT`.

            Examples:
              imagedrop pause --reason "disk swap on the NAS"
              imagedrop pause && imagedrop status --check     # exits 2 (paused) while a daemon runs
            Exit codes: 0 ok; 64 usage; 65 the database's folder does not exist or the database cannot be \
            written; 77 this user may not write the database; 78 the config file cannot be read.
            """)

    @OptionGroup var options: ConfigOption
    @Option(name: .long, help: "Why, shown by status as `paused by operator: TEXT` (one line, at most 200 characters).")
    var reason: String?

    func validate() throws { try PauseReason.validate(reason) }

    func run() throws {
        let database = try options.loadForReading().database
        let store = try ControlTable.open(database)
        let before = try store.setOperatorPause(true, reason: reason)
        let now = OperatorPause(at: "", reason: reason).text
        let note = ControlTable.daemonNote(
            database, whenRunning: "stops sending within a second or two; jobs stay queued",
            whenNot: "no daemon runs: one started later stays paused until `imagedrop resume`")
        Console.out(before.map { "queue was already \($0.text) (since \($0.at)); now \(now)" } ?? "queue \(now)")
        Console.out(note)
    }
}
