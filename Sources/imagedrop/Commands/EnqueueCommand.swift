import ArgumentParser
import FoundationEssentials
import ImagedropDaemon
import ImagedropParsing
import ImagedropStore
import ImagedropSystem

struct EnqueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue",
        abstract:
            "Queue existing files, or whole folders (recursively, honouring include/exclude), or image URLs, now.",
        discussion: """
            Every argument (and every URL line) is checked first, so a typo queues nothing.

            Examples:
              imagedrop enqueue /srv/imagedrop/inbox
              imagedrop enqueue --dry-run /srv/archive/2024     # lists the files it would queue (known ones left out)
              imagedrop enqueue --url https://example.com/a.jpg
              imagedrop enqueue --urls-from urls.txt            # one URL a line; - reads stdin
              imagedrop enqueue --source products --url https://example.com/p.jpg
            A path inside a source's folders is queued under that source; --source names the source of URLs and
            of paths outside every source's folders (else `default`).
            Exit codes: 0 ok; 64 usage; 65 a path does not exist or cannot be read, a bad URL line, or --source
            names a source that does not exist; 77 this user may not write the database; 78 config error.
            """
    )

    @OptionGroup var options: ConfigOption
    @Flag(
        name: .customLong("dry-run"),
        help: "List the files (and count the URLs) the real run would queue; queue nothing.")
    var dryRun = false
    @Option(
        name: .customLong("url"), parsing: .upToNextOption,
        help: "Image URLs for Cloudflare to fetch (the upload's url field).")
    var urls: [String] = []
    @Option(
        name: .customLong("urls-from"),
        help: "A file of URLs, one a line (blank lines and # comments ignored); - reads stdin.")
    var urlsFrom: String?
    @Option(
        name: .long, help: "The source for URLs and for paths outside every source's folders (default: default).",
        completion: CompletionValues.sources)
    var source: String?
    @Argument(help: "Files or folders.") var paths: [String] = []

    func validate() throws {
        if paths.isEmpty, urls.isEmpty, urlsFrom == nil {
            throw ValidationError("name files or folders, --url URL..., or --urls-from FILE")
        }
    }

    func run() throws {
        let config = try options.load()
        if let source { try SourceName.checkConfigured(source, config: config) }
        // Every URL is checked before the table is opened: one bad line queues nothing.
        let inputs = try urlInputs()
        let exists: Bool
        if case .success = FileStatus.of(RawPath(config.queue.database)) { exists = true } else { exists = false }
        let store: JobStore? =
            dryRun ? (exists ? try options.openStore(config, readOnly: true) : nil) : try options.openStore(config)
        // Paths are checked before anything is queued too: `--url U /typo` queues neither.
        let backfill = Backfill(config: config, store: store, source: source)
        let targets: [RawPath]
        do {
            targets = paths.isEmpty ? [] : try backfill.validate(paths)
        } catch {
            Console.error("\(error)")
            throw ExitCode(Daemon.Exit.noInput.rawValue)
        }
        if !inputs.isEmpty, source == nil, !config.sourceNames.contains(SourceSettings.defaultName) {
            Console.error(
                "--url: there is no source \"default\" (no top-level [watch] paths); name the URLs' source with --source NAME"
            )
            throw ExitCode(Daemon.Exit.noInput.rawValue)
        }
        if !inputs.isEmpty {
            if dryRun {
                // The count the real run would print: URLs already waiting (or named twice) are not queued again.
                let fresh = try store?.wouldInsertURLs(inputs).filter { $0 }.count ?? Set(inputs.map(\.sha256)).count
                Console.out("would queue \(fresh) URLs, \(inputs.count - fresh) already waiting (dry run)")
            } else if let store {
                let results = try store.enqueueURLs(inputs, source: source ?? SourceSettings.defaultName)
                let queued = results.filter { if case .inserted = $0 { return true } else { return false } }.count
                Console.out("\(queued) URLs queued, \(inputs.count - queued) already waiting")
            }
        }
        guard !paths.isEmpty else { return }
        let progress = TerminalStatusLine.stderr
        let found: Int
        let queued: Int
        do {
            (found, queued) = try backfill.enqueue(
                targets, dryRun: dryRun, candidate: { Console.out("would queue \($0.display)") }
            ) {
                progress?.show("scanned \($0) files…")
            }
        } catch let error as Backfill.MissingPath {
            progress?.finish("")
            Console.error("\(error)")
            throw ExitCode(Daemon.Exit.noInput.rawValue)
        }
        progress?.finish("scanned \(found) files")
        if dryRun {
            Console.out("would queue \(queued), \(found - queued) already known (dry run)")
            return
        }
        Console.out("\(queued) queued, \(found - queued) already known")
    }

    /// `--url` values, then the `--urls-from` list; exit 65 naming the first bad one (never echoing it: a
    /// URL may carry a password).
    private func urlInputs() throws -> [URLInput] {
        var inputs: [URLInput] = []
        for (index, raw) in urls.enumerated() {
            do { inputs.append(try URLInput(raw)) } catch {
                Console.error("--url #\(index + 1): \(error.problem); nothing queued")
                throw ExitCode(Daemon.Exit.noInput.rawValue)
            }
        }
        guard let urlsFrom else { return inputs }
        let data: Data?
        if urlsFrom == "-" {
            data = Console.readStandardInput().map { Data($0) }
        } else {
            data = FileManager.default.contents(atPath: urlsFrom)
        }
        let name = urlsFrom == "-" ? "stdin" : urlsFrom
        guard let data else {
            Console.error("\(name): cannot be read")
            throw ExitCode(Daemon.Exit.noInput.rawValue)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            Console.error("\(name): not UTF-8 text; nothing queued")
            throw ExitCode(Daemon.Exit.noInput.rawValue)
        }
        do {
            inputs += try URLList.parse(text)
        } catch {
            Console.error("\(name): \(error); nothing queued")
            throw ExitCode(Daemon.Exit.noInput.rawValue)
        }
        return inputs
    }
}
