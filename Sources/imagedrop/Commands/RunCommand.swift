import ArgumentParser
import ImagedropCore
import Logging

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon in the foreground (systemd runs this). SIGTERM/SIGINT stop it in order; SIGHUP reloads the config."
    )

    @OptionGroup var options: ConfigOption

    @Flag(name: .long, help: "Process what is there (and what arrives meanwhile) until the queue is empty, then exit.")
    var once = false

    func run() throws {
        let config = try options.load(checkFolders: true)
        LogSetup.bootstrap(config.log)
        var daemonOptions = Daemon.Options(configPath: options.path)
        daemonOptions.once = once
        daemonOptions.progress = once
        daemonOptions.onLogLevelChange = { LogSetup.setLevel($0) }
        let exit = Daemon(options: daemonOptions, logger: Logger(label: "imagedrop")).run()
        if exit != .ok { throw ExitCode(exit.rawValue) }
    }
}
