import ArgumentParser
import ImagedropCore

struct EnqueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue",
        abstract: "Queue existing files, or whole folders (recursively, honouring include/exclude), now."
    )

    @OptionGroup var options: ConfigOption
    @Argument(help: "Files or folders.") var paths: [String]

    func run() throws {
        let config = try options.load()
        let store = try options.openStore(config)
        let backfill = Backfill(config: config, store: store)
        let targets: [RawPath]
        do {
            targets = try backfill.validate(paths)
        } catch {
            Console.error("\(error)")
            throw ExitCode(Daemon.Exit.noInput.rawValue)
        }
        let progress = ProgressLine()
        let found: Int
        let queued: Int
        do {
            (found, queued) = try backfill.enqueue(targets) { progress.show("scanned \($0) files…") }
        } catch let error as Backfill.MissingPath {
            progress.finish("")
            Console.error("\(error)")
            throw ExitCode(Daemon.Exit.noInput.rawValue)
        }
        progress.finish("scanned \(found) files")
        Console.out("\(queued) queued, \(found - queued) already known")
    }
}
