import ArgumentParser
import Glibc
import ImagedropDaemon
import ImagedropStore
import ImagedropSystem

/// `-c/--config FILE`, else `$IMAGEDROP_CONFIG`, else /etc/imagedrop/imagedrop.toml; and the log level
/// switches every subcommand takes (they override `[log] level`, also across a reload).
struct ConfigOption: ParsableArguments {
    @Option(
        name: [.customShort("c"), .long],
        help: "Config file (default: $IMAGEDROP_CONFIG, else /etc/imagedrop/imagedrop.toml).")
    var config: String?

    @Flag(name: .shortAndLong, help: "Log warnings and errors only.") var quiet = false
    @Flag(name: .shortAndLong, help: "Log more: -v debug, -vv trace.") var verbose: Int
    @Option(
        name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.",
        completion: CompletionValues.logLevels)
    var logLevel: String?

    var path: String { ConfigLoader.resolvePath(explicit: config) }

    func validate() throws {
        if let logLevel, LogLevelName.parse(logLevel) == nil {
            throw ValidationError(
                "--log-level: \"\(logLevel)\" is not one of trace, debug, info, notice, warning, error, critical")
        }
        if quiet, verbose > 0 { throw ValidationError("-q and -v contradict each other; give one") }
    }

    /// The level the command line asks for, if any (`--log-level` wins over -q/-v).
    var levelOverride: String? {
        if let logLevel { return logLevel }
        if quiet { return "warning" }
        switch verbose {
        case 0: return nil
        case 1: return "debug"
        default: return "trace"
        }
    }

    /// Loads the config, or exits 78 with the one-line reason. `checkFolders` is off for commands that
    /// only read the table (status, show, export), which must work even when a drop folder is gone.
    func load(checkFolders: Bool = false) throws -> Config {
        do {
            var config = try ConfigLoader.load(path: path, checkFolders: checkFolders)
            if let levelOverride { config.log.level = levelOverride }
            return config
        } catch {
            Console.error("\(error)")
            throw ExitCode(Daemon.Exit.config.rawValue)
        }
    }

    /// What a read-only command (status, list, show, export) goes on: the config, or — when the file on disk does
    /// not load (mid-edit, or the reason the daemon refused a reload) — only the `[queue] database` it names.
    struct Reading {
        var database: String
        /// nil while the file is broken: its sources and drop-folder rules are unknown then.
        var config: Config?
    }

    /// The config for a reader. A broken file is a warning (the config error's line) and the database it names
    /// is read anyway; only a file that cannot be read at all is the usual 78.
    func loadForReading() throws -> Reading {
        do {
            var config = try ConfigLoader.load(path: path, checkFolders: false)
            if let levelOverride { config.log.level = levelOverride }
            return Reading(database: config.queue.database, config: config)
        } catch let error as ConfigError {
            guard let database = ConfigLoader.databaseFallback(path: path) else {
                Console.error("\(error)")
                throw ExitCode(Daemon.Exit.config.rawValue)
            }
            Console.error("warning: \(error); reading the database it names (\(database)) anyway")
            return Reading(database: database, config: nil)
        } catch {
            Console.error("\(error)")
            throw ExitCode(Daemon.Exit.config.rawValue)
        }
    }

    /// For commands that only read (show, export, list): read-only, so an operator who may read the state folder
    /// but not write it can use them; a table that does not exist yet is exit 65, not an empty answer, and one
    /// that cannot be read is 77 (permissions) or 65 naming the file and why.
    func openExistingStoreForReading(_ config: Config) throws -> JobStore {
        try openExistingStoreForReading(database: config.queue.database)
    }

    func openExistingStoreForReading(database: String) throws -> JobStore {
        guard let store = try openForReading(database: database) else {
            Console.error("no job table yet at \(database) (its folder exists; the daemon or enqueue creates it)")
            throw ExitCode(Daemon.Exit.noInput.rawValue)
        }
        return store
    }

    /// The table for a reader, nil when its folder exists and the file does not; exits 77 or 65 otherwise.
    func openForReading(database: String) throws -> JobStore? {
        do {
            return try JobStore.openForReading(database)
        } catch {
            throw Self.exit(for: error)
        }
    }

    /// One line naming the file and the reason, and the exit code its kind calls for.
    static func exit(for error: TableReadError) -> ExitCode {
        Console.error("\(error)")
        return ExitCode((error.kind == .permission ? Daemon.Exit.noPermission : Daemon.Exit.noInput).rawValue)
    }

    /// Opens the table, creating its folder and the table itself for writers: 77 when this user may not read or
    /// write it (or make its folder), as the readers and `pause` say; 65 for any other reason, named.
    func openStore(_ config: Config, readOnly: Bool = false) throws -> JobStore {
        do {
            if readOnly { return try JobStore(path: config.queue.database, readOnly: true) }
            return try JobStore.openForWriting(path: config.queue.database)
        } catch {
            Console.error("cannot open the job table \(config.queue.database): \(error)")
            throw ExitCode((Self.isPermission(error) ? Daemon.Exit.noPermission : Daemon.Exit.noInput).rawValue)
        }
    }

    private static func isPermission(_ error: any Error) -> Bool {
        if let error = error as? SQLiteError { return error.isNotWritable }
        if let error = error as? SystemError { return error.errno == EACCES || error.errno == EPERM }
        return false
    }
}
