import ArgumentParser
import ImagedropDaemon
import ImagedropStore

struct ReconcileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract:
            "Compare the account's images with the job table; with --fix, repair the table from the account and the drop folders.",
        discussion: """
            Lists every image of the account (list v2, 1 request per 1,000 images, through the request budget) and \
            reports: missing (a done job whose image the account no longer holds), unrecorded (an image with \
            imagedrop's metadata, sha256 and source_path, that no done job records), stale (a done job whose \
            variants differ from the account's). Ends with the line \
            "N images in the account, N done jobs: N missing, N unrecorded, N stale".
            --fix: a missing image's file, still there with the same bytes, is queued again; an unrecorded image \
            whose file is found at source_path under a watch path with the same SHA-256 gets a done job (no \
            upload); stale variants are refreshed. Safe while the daemon runs.
            --source NAME: only that source's done jobs, and only images whose source_path names a file under \
            that source's watch paths.

            Examples:
              imagedrop reconcile -c /etc/imagedrop/imagedrop.toml
              imagedrop reconcile --fix     # rebuild a lost database; uploads nothing
              imagedrop reconcile --source products --json
            Exit codes: 0 in agreement (or everything fixed); 1 differences remain; 65 --source names no source; \
            69 API unreachable or credentials refused; 74 the database could not be read or written; 78 config error.
            """)

    @OptionGroup var options: ConfigOption
    @Option(name: .long, help: "Only this source's jobs and images.", completion: CompletionValues.sources) var source:
        String?
    @Flag(name: .long, help: "Queue missing images again, record unrecorded ones, refresh stale variants.") var fix =
        false
    @Flag(name: .long, help: "Print one JSON object.") var json = false
    /// Tests list a small emulator in several pages; operators have no reason to change it.
    @Option(name: .customLong("page-size"), help: .hidden) var pageSize = 1000

    func validate() throws {
        guard (10...10_000).contains(pageSize) else { throw ValidationError("--page-size must be from 10 to 10000") }
    }

    func run() throws {
        let config = try options.load()
        let tokens = TokenSource(config: config)
        if let conflict = tokens.conflict {
            Console.error(ConfigError(file: options.path, key: nil, problem: conflict).description)
            throw ExitCode(Daemon.Exit.config.rawValue)
        }
        let token: APIToken
        do { token = try tokens.load() } catch {
            Console.error("config error: \(error)")
            throw ExitCode(Daemon.Exit.config.rawValue)
        }
        // Read-write: the request budget's log is kept in the table, and --fix writes jobs.
        let store = try options.openStore(config)
        if let source { try SourceName.checkKnown(source, config: config, store: store) }
        let status = Reconciliation(
            config: config, store: store, token: token,
            options: .init(source: source, fix: fix, json: json, perPage: pageSize)
        )
        .run(write: { Console.write($0, to: 1) }, problem: { Console.error($0) })
        if status != 0 { throw ExitCode(status) }
    }
}
