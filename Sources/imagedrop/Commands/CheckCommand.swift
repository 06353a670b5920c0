import ArgumentParser
import ImagedropCore

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate config, folders and database; verify the token against the API (exit 78 config, 69 API/token).")

    @OptionGroup var options: ConfigOption
    @Flag(name: .long, help: "Skip the API checks.") var offline = false

    func run() throws {
        let (exit, problem) = ConfigCheck(configPath: options.path, offline: offline).run { Console.out($0) }
        if let problem { Console.error(problem) }
        if exit != .ok { throw ExitCode(exit.rawValue) }
        Console.out("configuration OK")
    }
}
