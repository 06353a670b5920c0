import ArgumentParser
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSystem

struct DismissCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dismiss",
        abstract: "Acknowledge failed jobs: out of the failed counts of status, the status page and the metrics.",
        discussion: """
            A dismissed job stays failed, with its reason: `imagedrop list --state failed --all` still lists it, \
            and `imagedrop retry JOB_ID` queues it again (which clears the mark). A path dismisses every failed \
            job of that file. Every argument is checked first: one that names no job dismisses nothing.

            Examples:
              imagedrop dismiss 17 42
              imagedrop dismiss /srv/imagedrop/inbox/broken.jpg
              imagedrop dismiss --all-failed --dry-run
            Exit codes: 0 ok; 64 usage; 65 a job id or path has no job, or the database cannot be opened; 77 this user may not write it; 78 config error.
            """
    )

    @OptionGroup var options: ConfigOption
    @Flag(name: .customLong("all-failed"), help: "Every failed job not dismissed yet.") var allFailed = false
    @Flag(name: .customLong("dry-run"), help: "List the jobs that would be dismissed; change nothing.") var dryRun =
        false
    @Argument(help: "Job ids, or paths (every failed job of the file).") var targets: [String] = []

    func validate() throws {
        if allFailed == !targets.isEmpty {
            throw ValidationError("give job ids or paths, or --all-failed (one of the two)")
        }
    }

    func run() throws {
        let config = try options.load()
        let store = try dryRun ? options.openExistingStoreForReading(config) : options.openStore(config)
        var ids: [Int64] = []
        var missing = false
        for target in allFailed ? [] : targets {
            guard let found = try Self.failedJobs(target, store: store, config: config) else {
                missing = true
                continue
            }
            ids += found
        }
        if missing {
            Console.error("nothing dismissed")
            throw ExitCode(Daemon.Exit.noInput.rawValue)
        }
        let jobs = try store.dismissFailed(ids: allFailed ? nil : ids, dryRun: dryRun)
        for job in jobs {
            let reason = job.lastError.map { ": \($0)" } ?? ""
            Console.out("job \(job.id) \(dryRun ? "would be dismissed" : "dismissed"): \(job.path.display)\(reason)")
        }
        Console.out(dryRun ? "\(jobs.count) would be dismissed (dry run)" : "\(jobs.count) dismissed")
    }

    /// The undismissed failed jobs a target names (an id, or every version of a path); nil, with the reason on
    /// stderr, when it names no job at all. A job that exists but is not failed (or is dismissed already) is
    /// said and left out, as `retry` does.
    static func failedJobs(_ target: String, store: JobStore, config: Config) throws -> [Int64]? {
        if let id = Int64(target), !target.contains("/") {
            guard let job = try store.job(id: id) else {
                Console.error("no job with id \(target)")
                return nil
            }
            if job.state != .failed {
                Console.error("job \(id) is \(job.state.rawValue), not failed; left as it is")
                return []
            }
            if job.dismissed { Console.error("job \(id) is dismissed already") }
            return job.dismissed ? [] : [id]
        }
        let path = RawPath.absolute(target)
        let jobs = try store.jobs(path: path)
        guard let newest = jobs.first else {
            Console.error(NoJobReason.explain(path, config: config))
            return nil
        }
        let failed = jobs.filter { $0.state == .failed && !$0.dismissed }
        if failed.isEmpty {
            Console.error(
                "\(path.display): no failed job to dismiss (its newest is job \(newest.id), \(newest.state.rawValue)"
                    + "\(newest.dismissed ? ", dismissed" : ""))")
        }
        return failed.map(\.id)
    }
}
