import ArgumentParser
import ImagedropSystem
import ImagedropStore
import ImagedropPipeline
import ImagedropDaemon
import Logging

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon in the foreground (systemd runs this). SIGTERM/SIGINT stop it in order; SIGHUP reloads the config.",
        discussion: """
            Examples:
              imagedrop run -c /etc/imagedrop/imagedrop.toml
              imagedrop run --once -v                 # the backlog, then a summary line and exit
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

    func run() throws {
        let config = try options.load(checkFolders: true)
        LogSetup.bootstrap(config.log)
        var daemonOptions = Daemon.Options(configPath: options.path)
        daemonOptions.once = once
        daemonOptions.progress = true   // drawn only when stderr is a terminal
        let override = options.levelOverride.flatMap(LogLevelName.parse)
        daemonOptions.onLogLevelChange = { LogSetup.setLevel(override ?? $0) }   // the command line outlives a reload
        let exit = Daemon(options: daemonOptions, logger: Logger(label: "imagedrop")).run()
        if exit != .ok { throw ExitCode(exit.rawValue) }
    }
}
