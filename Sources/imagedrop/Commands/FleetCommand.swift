import ArgumentParser
import Glibc
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSystem

struct FleetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "The hosts sharing this budget through Redis ([fleet]): status, pause, resume.",
        discussion: """
            Exit codes: 0 ok; 64 usage; 69 Redis cannot be reached or refuses the login; 78 the config cannot be \
            read or has no [fleet] section.
            """,
        subcommands: [FleetStatusCommand.self, FleetPauseCommand.self, FleetResumeCommand.self])

    /// The config's `[fleet]` with its password read, and a connection; exits 78 without one, 69 when Redis fails.
    static func connect(_ options: ConfigOption) throws -> (Config, FleetControl) {
        let config = try options.load()
        guard var fleet = config.fleet else {
            Console.error("config error: no [fleet] section in \(options.path): this host runs alone")
            throw ExitCode(Daemon.Exit.config.rawValue)
        }
        do {
            fleet = try fleet.withPassword(configPath: options.path)
        } catch {
            Console.error("\(error)")
            throw ExitCode(Daemon.Exit.config.rawValue)
        }
        do {
            return (config, try FleetControl(fleet: fleet, accountID: config.cloudflare.accountID))
        } catch {
            Console.error("fleet: cannot use Redis at \(fleet.redis): \(error)")
            throw ExitCode(Daemon.Exit.unavailable.rawValue)
        }
    }

    static func unavailable(_ error: RedisError, _ config: Config) -> ExitCode {
        Console.error("fleet: Redis at \(config.fleet.map { "\($0.redis)" } ?? "?") failed: \(error)")
        return ExitCode(Daemon.Exit.unavailable.rawValue)
    }
}
