import ArgumentParser
import ImagedropCore
import ImagedropSupport

struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune", abstract: "Delete done jobs uploaded more than N days ago, to keep the table small.")

    @OptionGroup var options: ConfigOption
    @Option(name: .customLong("older-than-days"), help: "Age in days (default 30).") var days: Int = 30

    func validate() throws {
        if days < 0 { throw ValidationError("--older-than-days must be 0 or more") }
    }

    func run() throws {
        let config = try options.load()
        let store = try options.openStore(config)
        let cutoff = Timestamp.iso8601(millis: Timestamp.nowMillis() - Int64(days) * 86_400_000)
        let removed = try store.prune(doneBefore: cutoff)
        Console.out("\(removed) done jobs uploaded before \(cutoff) removed")
    }
}
