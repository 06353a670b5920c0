import ArgumentParser
import ImagedropDaemon
import ImagedropPipeline

struct FleetResumeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Lifts `imagedrop fleet pause`: every host goes on within a second.")

    @OptionGroup var options: ConfigOption

    func run() throws {
        let (config, control) = try FleetCommand.connect(options)
        let lifted: Bool
        do { lifted = try control.resume() } catch { throw FleetCommand.unavailable(error, config) }
        Console.out(lifted ? "fleet resumed" : "fleet was not paused")
    }
}
