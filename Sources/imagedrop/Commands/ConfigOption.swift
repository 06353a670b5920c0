import ArgumentParser
import ImagedropCore

/// `--config FILE`, else `$IMAGEDROP_CONFIG`, else /etc/imagedrop/imagedrop.toml.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "Config file (default: $IMAGEDROP_CONFIG, else /etc/imagedrop/imagedrop.toml).")
    var config: String?

    var path: String { ConfigLoader.resolvePath(explicit: config) }

    /// Loads the config, or exits 78 with the one-line reason. `checkFolders` is off for commands that
    /// only read the table (status, show, export), which must work even when a drop folder is gone.
    func load(checkFolders: Bool = false) throws -> Config {
        do {
            return try ConfigLoader.load(path: path, checkFolders: checkFolders)
        } catch {
            Console.error("\(error)")
            throw ExitCode(Daemon.Exit.config.rawValue)
        }
    }

    /// For commands that only read (show, export): read-only, so an operator who may read the state folder
    /// but not write it can use them; a table that does not exist yet is exit 65, not an empty answer.
    func openExistingStoreForReading(_ config: Config) throws -> JobStore {
        guard case .success = FileStatus.of(RawPath(config.queue.database)) else {
            Console.error("no job table yet at \(config.queue.database)")
            throw ExitCode(Daemon.Exit.noInput.rawValue)
        }
        return try openStore(config, readOnly: true)
    }

    /// Opens the table, creating its folder and the table itself for writers.
    func openStore(_ config: Config, readOnly: Bool = false) throws -> JobStore {
        do {
            if readOnly { return try JobStore(path: config.queue.database, readOnly: true) }
            return try JobStore.openForWriting(path: config.queue.database)
        } catch {
            Console.error("cannot open the job table \(config.queue.database): \(error)")
            throw ExitCode(Daemon.Exit.noInput.rawValue)
        }
    }
}
