import ArgumentParser
import ImagedropStore

/// What the shell completions offer for option values. The fixed lists come from the enums the commands parse
/// into, so a new state or level reaches the completions with the next build; source names are read from the
/// config at completion time, since each host configures its own.
enum CompletionValues {
    static let states: CompletionKind = .list(JobState.allCases.map(\.rawValue))
    static let logLevels: CompletionKind = .list(["trace", "debug", "info", "notice", "warning", "error", "critical"])

    /// The configured source names of the config the command line names (`-c`/`--config`, else the usual
    /// default); nothing when that file does not load (completion must never print an error into the shell).
    static let sources: CompletionKind = .custom { words, _, _ in
        let path = ConfigLoader.resolvePath(explicit: explicitConfig(in: words))
        guard let config = try? ConfigLoader.load(path: path, checkFolders: false) else { return [] }
        return config.sourceNames
    }

    /// The value after the last `-c`/`--config` (or in `--config=FILE`) among the words typed so far.
    static func explicitConfig(in words: [String]) -> String? {
        var found: String?
        for (index, word) in words.enumerated() {
            if word == "-c" || word == "--config", index + 1 < words.count {
                found = words[index + 1]
            } else if word.hasPrefix("--config=") {
                found = String(word.dropFirst("--config=".count))
            }
        }
        return found
    }
}
