import ArgumentParser
import ImagedropDaemon
import ImagedropPipeline

struct FleetPauseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "Every host of the fleet stops sending until `imagedrop fleet resume` (jobs stay queued).",
        discussion: "Kept in Redis: it holds across the hosts' restarts. `fleet status` shows it.")

    @OptionGroup var options: ConfigOption
    @Option(name: .long, help: "Why, shown by `fleet status` (one line, at most 200 characters).") var reason: String?

    func validate() throws { try PauseReason.validate(reason) }

    func run() throws {
        let (config, control) = try FleetCommand.connect(options)
        do { try control.pause(reason: reason) } catch { throw FleetCommand.unavailable(error, config) }
        Console.out("fleet paused\(reason.map { ": \($0)" } ?? ""); every host stops sending at its next request")
    }
}
