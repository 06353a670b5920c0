import ArgumentParser
import ImagedropDaemon
import ImagedropStore
import ImagedropSupport
import ImagedropSystem

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Jobs, newest first, with their state and reason — from the database alone.",
        discussion: """
            Examples:
              imagedrop list --state failed --since 1d
              imagedrop list --state failed --all            # dismissed failures too
              imagedrop list --limit 1000 --json | jq -r '.path'
              imagedrop list --source avatars --state queued
            DURATION is a number with s, m, h or d (90s, 15m, 2h, 7d). Failed jobs acknowledged with \
            `imagedrop dismiss` are left out unless --all.
            Exit codes: 0 ok; 64 usage; 65 the database or its folder does not exist or the database cannot be
            read, or --source names a source that does not exist; 77 this user may not read the database; 78 the
            config file cannot be read (one that does not load is a warning: the database it names is read).
            """)

    @OptionGroup var options: ConfigOption
    @Option(
        name: .long, help: "Only jobs in this state: queued, uploading, retrying, done or failed.",
        completion: CompletionValues.states) var state: String?
    @Option(name: .long, help: "Only jobs changed within this long ago, e.g. 2h or 7d.") var since: String?
    @Option(name: .long, help: "At most this many jobs (1 to 1000000).") var limit = 50
    @Flag(name: .long, help: "One JSON object per line (the keys of show --json).") var json = false
    @Option(
        name: .long, help: "Only jobs of this source ([[source]] name, or default).",
        completion: CompletionValues.sources) var source: String?
    @Flag(name: .long, help: "Also failed jobs acknowledged with `imagedrop dismiss` (marked [dismissed]).") var all =
        false

    func validate() throws {
        if let state, JobState(rawValue: state) == nil {
            throw ValidationError("--state: \"\(state)\" is not one of queued, uploading, retrying, done, failed")
        }
        if let since, Self.seconds(since) == nil {
            throw ValidationError("--since: \"\(since)\" is not a duration like 90s, 15m, 2h or 7d")
        }
        guard (1...1_000_000).contains(limit) else {
            throw ValidationError("--limit: \(limit) is out of range (1 to 1000000)")
        }
    }

    /// "90s", "15m", "2h", "7d" → seconds; a bare number is seconds.
    static func seconds(_ text: String) -> Int64? {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        guard let last = text.last else { return nil }
        let (digits, unit) = units[last].map { (text.dropLast(), $0) } ?? (Substring(text), 1)
        guard let number = Int64(digits), number >= 0, number <= 100 * 365 * 86_400 / unit else { return nil }
        return number * unit
    }

    func run() throws {
        let reading = try options.loadForReading()
        let store = try options.openExistingStoreForReading(database: reading.database)
        if let source { try SourceName.checkKnown(source, config: reading.config, store: store) }
        let cutoff = since.flatMap(Self.seconds).map { Timestamp.iso8601(millis: Timestamp.nowMillis() - $0 * 1000) }
        let jobs = try store.list(
            state: state.flatMap(JobState.init(rawValue:)), updatedSince: cutoff, limit: limit,
            source: source, includeDismissed: all)
        for job in jobs {
            if json {
                Console.out(JobRendering.json(JobRendering.dictionary(job)))
            } else {
                let reason = job.lastError.map { "  \($0)" } ?? ""
                let mark = job.dismissed ? "  [dismissed]" : ""
                Console.out("#\(job.id)\t\(job.state.rawValue)\t\(job.updatedAt)\t\(job.path.display)\(reason)\(mark)")
            }
        }
    }
}
