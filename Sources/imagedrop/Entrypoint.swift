import ArgumentParser
import ImagedropCore

/// Thin entry point: signals are blocked before anything can start a thread, then the commands run.
@main
struct Entrypoint {
    static func main() {
        Signals.blockForProcess()
        ImagedropCommand.main()
    }
}

struct ImagedropCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imagedrop",
        abstract: "Watch drop folders and upload every new image to Cloudflare Images.",
        version: ImagedropVersion.current,
        subcommands: [RunCommand.self, StatusCommand.self, EnqueueCommand.self, RetryCommand.self, ShowCommand.self,
                      ExportCommand.self, CheckCommand.self, PruneCommand.self]
    )
}
