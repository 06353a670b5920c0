import ArgumentParser
import ImagedropDaemon
import ImagedropStore
import ImagedropSupport

struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract:
            "Delete done jobs uploaded more than N days ago (or, with --failed, old failed jobs), to keep the table small.",
        discussion: """
            Each pruned done version is remembered in stored_versions, so files still in a drop folder are not uploaded \
            again. A pruned failed job leaves nothing behind: its file, if still in a drop folder unchanged, is found by \
            the next scan and tried once more (move such files away first, or `imagedrop dismiss` them instead).

            Examples:
              imagedrop prune --older-than-days 90 --dry-run
              imagedrop prune --failed --older-than-days 30     # failed jobs unchanged for 30 days, dismissed or not
            Exit codes: 0 ok; 64 usage (e.g. a day count out of range); 65 the database cannot be opened; 77 this user may not write it; 78 config error.
            """)

    static let maxDays = 36_500

    @OptionGroup var options: ConfigOption
    // .unconditional: `--older-than-days -1` must reach validate() as a number, not be taken for a flag.
    @Option(name: .customLong("older-than-days"), parsing: .unconditional, help: "Age in days, 0 to \(Self.maxDays).")
    var days: Int = 30
    @Flag(name: .long, help: "Delete failed jobs (by the time they last changed) instead of done ones.") var failed =
        false
    @Flag(name: .customLong("dry-run"), help: "Say how many jobs would be removed; remove nothing.") var dryRun = false

    func validate() throws {
        guard (0...Self.maxDays).contains(days) else {
            throw ValidationError("--older-than-days: \(days) is out of range (0 to \(Self.maxDays) days)")
        }
    }

    func run() throws {
        let config = try options.load()
        let cutoff = Timestamp.iso8601(millis: Timestamp.nowMillis() - Int64(days) * 86_400_000)
        let target: JobStore.PruneTarget = failed ? .failed : .done
        // The same words for both runs, so a script can compare the dry run's number with the real one's.
        let what = failed ? "failed jobs unchanged since before \(cutoff)" : "done jobs uploaded before \(cutoff)"
        if dryRun {
            let store = try options.openExistingStoreForReading(config)
            Console.out("would remove \(try store.prunable(target, before: cutoff)) \(what) (dry run)")
            return
        }
        let store = try options.openStore(config)
        Console.out("\(try store.prune(target, before: cutoff)) \(what) removed")
    }
}
