import ArgumentParser
import ImagedropCore

struct EnqueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue",
        abstract: "Queue existing files, or whole folders (recursively, honouring include/exclude), now.",
        discussion: """
            Every argument is checked first, so a typo queues nothing.

            Examples:
              imagedrop enqueue /srv/imagedrop/inbox
              imagedrop enqueue --dry-run /srv/archive/2024     # lists the files it would queue
            Exit codes: 0 ok; 64 usage; 65 a path does not exist or cannot be read; 78 config error.
            """
    )

    @OptionGroup var options: ConfigOption
    @Flag(name: .customLong("dry-run"), help: "List the files that would be offered to the queue; queue nothing.") var dryRun = false
    @Argument(help: "Files or folders.") var paths: [String]

    func run() throws {
        let config = try options.load()
        let exists: Bool
        if case .success = FileStatus.of(RawPath(config.queue.database)) { exists = true } else { exists = false }
        let store: JobStore? = dryRun ? (exists ? try options.openStore(config, readOnly: true) : nil) : try options.openStore(config)
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
            (found, queued) = try backfill.enqueue(targets, dryRun: dryRun, candidate: { Console.out("would queue \($0.display)") }) {
                progress.show("scanned \($0) files…")
            }
        } catch let error as Backfill.MissingPath {
            progress.finish("")
            Console.error("\(error)")
            throw ExitCode(Daemon.Exit.noInput.rawValue)
        }
        progress.finish("scanned \(found) files")
        if dryRun {
            Console.out("\(found) files would be offered to the queue (those already known are skipped; dry run)")
            return
        }
        Console.out("\(queued) queued, \(found - queued) already known")
    }
}
