import ArgumentParser
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSystem
import Logging

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract:
            "Run the daemon in the foreground (systemd runs this). SIGTERM/SIGINT stop it in order; SIGHUP reloads the config.",
        discussion: """
            Examples:
              imagedrop run -c /etc/imagedrop/imagedrop.toml
              imagedrop run --once -v                 # the backlog, then a summary line and exit
              imagedrop run --once --dry-run          # what that would upload: path, size, custom id; sends nothing
              imagedrop run --once --include '*.png' --exclude 'draft-*'   # other name patterns for this run only
            --include/--exclude replace whole lists for this run only (jobs already queued are uploaded whatever \
            their names); off a terminal, --once logs its progress line every 10 s.
            Exit codes: 0 ok (also after SIGTERM/SIGINT without --once); 23 --once finished but jobs of the run \
            failed; 69 --once stopped by a paused queue (refused token, or `imagedrop pause`); 74 the database \
            stayed busy, or was deleted or replaced under the daemon, or [http] listen could not be bound (systemd \
            restarts it); 75 another daemon runs on this database or watches the same folder; 77 the database may \
            not be written by this user; 78 config error; 130 / 143 --once stopped by SIGINT / SIGTERM (after its \
            summary line).
            """
    )

    @OptionGroup var options: ConfigOption

    @Flag(name: .long, help: "Process what is there (and what arrives meanwhile) until the queue is empty, then exit.")
    var once = false
    @Flag(
        name: .customLong("dry-run"),
        help:
            "With --once: list what the run would upload (path, size, custom id) and what would fail; send nothing, change nothing."
    )
    var dryRun = false
    @Option(
        name: .customLong("include"),
        help: "With --once: a name pattern to take, in place of every source's watch.include (repeatable).")
    var include: [String] = []
    @Option(
        name: .customLong("exclude"),
        help:
            "With --once: a name pattern to ignore, in place of every source's watch.exclude, defaults included (repeatable)."
    )
    var exclude: [String] = []

    func validate() throws {
        if dryRun, !once { throw ValidationError("--dry-run goes with --once") }
        if !once, !(include.isEmpty && exclude.isEmpty) {
            throw ValidationError(
                "--include and --exclude apply to one run: give --once (the daemon's patterns are the config's)")
        }
        if (include + exclude).contains(where: \.isEmpty) {
            throw ValidationError("--include/--exclude: a pattern is empty")
        }
    }

    /// Only the lists given replace the config's.
    private var patterns: PatternOverride? {
        include.isEmpty && exclude.isEmpty
            ? nil
            : PatternOverride(include: include.isEmpty ? nil : include, exclude: exclude.isEmpty ? nil : exclude)
    }

    func run() throws {
        var config = try options.load(checkFolders: true)
        if let patterns { config = patterns.apply(to: config) }
        if dryRun { return try listDryRun(config) }
        LogSetup.bootstrap(config.log)
        var daemonOptions = Daemon.Options(configPath: options.path)
        daemonOptions.once = once
        daemonOptions.patterns = patterns
        daemonOptions.progress = true  // drawn only when stderr is a terminal
        let override = options.levelOverride.flatMap(LogLevelName.parse)
        daemonOptions.onLogLevelChange = { LogSetup.setLevel(override ?? $0) }  // the command line outlives a reload
        let exit = Daemon(options: daemonOptions, logger: Logger(label: "imagedrop")).run()
        if exit != .ok { throw ExitCode(exit.rawValue) }
    }

    /// No daemon, no lock, no token: the table is read (when it exists) and the files are looked at.
    private func listDryRun(_ config: Config) throws {
        let exists: Bool
        if case .success = FileStatus.of(RawPath(config.queue.database)) { exists = true } else { exists = false }
        let store = exists ? try options.openStore(config, readOnly: true) : nil
        let entries = try OnceDryRun(config: config, store: store).entries()
        var uploads = 0
        var bytes = 0
        var urls = 0
        var failures = 0
        var later = 0
        for entry in entries {
            Console.out(entry.line)
            switch entry.verdict {
            case .upload(let size, _):
                uploads += 1
                bytes += size ?? 0
            case .urlList(let count): urls += count
            case .fail: failures += 1
            case .later: later += 1
            }
        }
        Console.out(
            "\(uploads) would be uploaded (\(HumanUnits.bytes(bytes))), \(urls) URLs queued, \(failures) would fail, "
                + "\(later) left for later; nothing sent (dry run)")
    }
}
