import ArgumentParser
import ImagedropDaemon
import ImagedropStore

/// `--source NAME` on `enqueue`, `export` and `list`: a name that matches no source is exit 65, like a path
/// or job id that does not exist (DESIGN: 65 "a named file, folder or job does not exist").
enum SourceName {
    /// For readers (`export`, `list`): a configured source, or one the table still holds jobs of (a source
    /// removed from the config keeps its jobs, and they can still be listed and exported). With no config
    /// (the file on disk does not load) only the table's sources are known.
    static func checkKnown(_ name: String, config: Config?, store: JobStore) throws {
        if config?.sourceNames.contains(name) == true { return }
        if let counts = try? store.sourceCounts(), counts[name] != nil { return }
        throw refusal(name, known: config?.sourceNames ?? ((try? store.sourceCounts()).map { $0.keys.sorted() } ?? []))
    }

    /// For `enqueue`: jobs are only queued for a source that is configured (its rules must exist).
    static func checkConfigured(_ name: String, config: Config) throws {
        if config.sourceNames.contains(name) { return }
        throw refusal(name, known: config.sourceNames)
    }

    private static func refusal(_ name: String, known: [String]) -> ExitCode {
        Console.error(
            "--source: \"\(name)\" names a source that does not exist (sources: \(known.joined(separator: ", ")))")
        return ExitCode(Daemon.Exit.noInput.rawValue)
    }
}
