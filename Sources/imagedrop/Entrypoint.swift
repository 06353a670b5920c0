import ArgumentParser
import ImagedropCore

/// Thin entry point: signals are blocked before anything can start a thread (the daemon takes them on its main
/// loop), then unblocked again for every other command, which should simply die on Ctrl-C or SIGTERM.
@main
struct Entrypoint {
    static func main() {
        Signals.blockForProcess()
        // glibc gives each thread that allocates its own malloc arena (up to 8 per core); a daemon with a
        // dozen threads then holds several MiB of mostly empty arenas. Two are plenty for its contention.
        _ = glibcMallopt(-8 /* M_ARENA_MAX */, 2)
        // Parse first (no threads yet, signals still blocked), then give every command but `run` its signals back.
        do {
            var command = try ImagedropCommand.parseAsRoot()
            if !(command is RunCommand) { Signals.restoreDefaultForProcess() }
            try command.run()
        } catch {
            ImagedropCommand.exit(withError: error)
        }
    }
}

/// glibc's mallopt(3): <malloc.h> is not part of Swift's Glibc module.
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32

struct ImagedropCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imagedrop",
        abstract: "Watch drop folders and upload every new image to Cloudflare Images.",
        version: ImagedropVersion.current,
        subcommands: [RunCommand.self, StatusCommand.self, EnqueueCommand.self, RetryCommand.self, ShowCommand.self,
                      ExportCommand.self, CheckCommand.self, PruneCommand.self, WebhookCommand.self]
    )
}
