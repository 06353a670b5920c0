import ArgumentParser
import ImagedropDaemon

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate config, folders and database; verify the token against the API. Creates nothing.",
        discussion: """
            Examples:
              imagedrop check -c /etc/imagedrop/imagedrop.toml
              imagedrop check --offline               # no API requests
            Exit codes: 0 ok; 69 API unreachable, token refused or request budget spent; 77 the database, its \
            -wal/-shm files or its folder may not be written by this user; 78 config error (including a database \
            folder that does not exist).
            """)

    @OptionGroup var options: ConfigOption
    @Flag(name: .long, help: "Skip the API checks.") var offline = false

    func run() throws {
        let (exit, problem) = ConfigCheck(configPath: options.path, offline: offline).run { Console.out($0) }
        if let problem { Console.error(problem) }
        if exit != .ok { throw ExitCode(exit.rawValue) }
        Console.out("configuration OK")
    }
}
