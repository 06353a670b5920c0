import ArgumentParser
import ImagedropDaemon
import ImagedropStore
import ImagedropSystem

struct ResumeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Lift `imagedrop pause`: the local daemon goes on sending.",
        discussion: """
            Lifts only the operator's pause: a queue paused because the API refused the token or cannot be \
            reached stays paused until a probe gets through (a SIGHUP probes at once). Not paused: says so, exit 0.

            Examples:
              imagedrop resume
            Exit codes: 0 ok; 65 the database's folder does not exist or the database cannot be written; 77 this \
            user may not write the database; 78 the config file cannot be read.
            """)

    @OptionGroup var options: ConfigOption

    func run() throws {
        let database = try options.loadForReading().database
        let store = try ControlTable.open(database)
        guard let before = try store.setOperatorPause(false) else {
            Console.out("not paused by the operator: nothing to resume")
            return
        }
        Console.out("resumed (was \(before.text), since \(before.at))")
        // The daemon's own pause (a refused token, an unreachable API) is not the operator's to lift.
        let ownPause = DaemonLock.probe(database: database).running ? (try? store.daemonRecord())?.paused : nil
        Console.out(
            ControlTable.daemonNote(
                database,
                whenRunning: ownPause.map { "stays paused: \($0)" }
                    ?? "goes on sending within a second or two",
                whenNot: "no daemon runs: the next one starts sending"))
    }
}
