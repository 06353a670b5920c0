import ArgumentParser
import ImagedropDaemon
import ImagedropStore

struct WebhookCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook",
        abstract: "The webhook outbox.",
        subcommands: [Retry.self]
    )

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retry",
            abstract: "Send dead webhook deliveries again (same delivery ids; their attempts start again).",
            discussion: """
                The running daemon sends them on its next turn; without one they go out at the next start.

                Example: imagedrop webhook retry -c /etc/imagedrop/imagedrop.toml
                Exit codes: 0 ok; 65 the database cannot be opened; 77 this user may not write it; 78 config error.
                """
        )

        @OptionGroup var options: ConfigOption

        func run() throws {
            let config = try options.load()
            let store = try options.openStore(config)
            let count = try store.retryDeadWebhooks()
            Console.out("\(count) dead webhook deliveries queued again")
        }
    }
}
