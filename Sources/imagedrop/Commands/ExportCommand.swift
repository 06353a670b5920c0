import ArgumentParser
import ImagedropDaemon
import ImagedropStore

extension JobStore.ExportFormat: ExpressibleByArgument {}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Path → image id → variant URLs of done jobs, streamed.",
        discussion: """
            Examples:
              imagedrop export --format ndjson > images.ndjson
              imagedrop export --state failed --latest --format json   # with last_error and path_raw_hex
              imagedrop export --source products --format csv
            Exit codes: 0 ok; 65 the database or its folder does not exist or the database cannot be read, or
            --source names a source that does not exist; 77 this user may not read the database; 78 the config
            file cannot be read (one that does not load is a warning: the database it names is read).
            """)

    @OptionGroup var options: ConfigOption
    @Option(name: .long, help: "The output format.") var format: JobStore.ExportFormat = .csv
    @Flag(name: .long, help: "Include jobs in every state, not only done ones.") var all = false
    @Option(
        name: .long, help: "Only jobs in this state (instead of done ones).",
        completion: CompletionValues.states) var state: String?
    @Flag(name: .long, help: "Only the newest of the selected jobs of each path (its current version).") var latest =
        false
    @Option(
        name: .long, help: "Only jobs of this source ([[source]] name, or default).",
        completion: CompletionValues.sources) var source: String?

    func validate() throws {
        if let state, JobState(rawValue: state) == nil {
            throw ValidationError("--state: \"\(state)\" is not one of queued, uploading, retrying, done, failed")
        }
        if all, state != nil { throw ValidationError("--all and --state contradict each other; give one") }
    }

    func run() throws {
        let reading = try options.loadForReading()
        let store = try options.openExistingStoreForReading(database: reading.database)
        if let source { try SourceName.checkKnown(source, config: reading.config, store: store) }
        let output = BufferedOutput()
        try store.export(
            format: format, includeAll: all, state: state.flatMap(JobState.init(rawValue:)), latestOnly: latest,
            source: source
        ) {
            output.write($0)
        }
        output.flush()
    }
}

/// Collects small writes into 64 KiB blocks: export writes a line per row and a syscall per row would dominate.
final class BufferedOutput {
    private var buffer: [UInt8] = []
    func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 65_536 { flush() }
    }
    func flush() {
        Console.write(String(decoding: buffer, as: UTF8.self), to: 1)
        buffer.removeAll(keepingCapacity: true)
    }
}
