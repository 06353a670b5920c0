import ArgumentParser
import ImagedropCore

struct RetryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Put failed jobs back in the queue (their attempt count starts again)."
    )

    @OptionGroup var options: ConfigOption
    @Flag(name: .customLong("all-failed"), help: "Every failed job.") var allFailed = false
    @Argument(help: "Job ids.") var ids: [Int64] = []

    func validate() throws {
        if allFailed == !ids.isEmpty { throw ValidationError("give job ids or --all-failed (one of the two)") }
    }

    func run() throws {
        let config = try options.load()
        let store = try options.openStore(config)
        if allFailed {
            let retried = try store.retryFailed(ids: nil)
            Console.out("\(retried.count) failed jobs queued again")
            return
        }
        var missing = false
        for id in ids {
            guard let job = try store.job(id: id) else {
                Console.error("no job with id \(id)")
                missing = true
                continue
            }
            if job.state != .failed {
                Console.error("job \(id) is \(job.state.rawValue), not failed; left as it is")
                continue
            }
            if try store.retryFailed(ids: [id]).isEmpty {
                Console.error("job \(id): a newer version of \(job.path.display) is already queued; left as it is")
            } else {
                Console.out("job \(id) queued again")
            }
        }
        if missing { throw ExitCode(Daemon.Exit.noInput.rawValue) }
    }
}
