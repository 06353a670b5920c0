import ArgumentParser
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSystem

struct RetryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Put failed jobs back in the queue (their attempt count starts again).",
        discussion: """
            Examples:
              imagedrop retry --all-failed              # every failed job status counts (not dismissed ones)
              imagedrop retry 17 42 --dry-run
              imagedrop retry /srv/imagedrop/inbox/cat.jpg
              imagedrop retry --force 42             # a done job again (refreshes its variants)
            Exit codes: 0 ok; 64 usage; 65 a job id does not exist or the database cannot be opened; 77 this user may not write it; 78 config error.
            """
    )

    @OptionGroup var options: ConfigOption
    @Flag(name: .customLong("all-failed"), help: "Every failed job.") var allFailed = false
    @Flag(
        name: .customLong("dry-run"),
        help: "Say which jobs would be queued again (the same count as the real run); change nothing.") var dryRun =
        false
    @Flag(name: .long, help: "Also queue done jobs again (re-upload; the API's 409 and a GET refresh their variants).")
    var force = false
    @Argument(help: "Job ids (a dismissed job too), or paths (the newest job of each).") var targets: [String] = []

    func validate() throws {
        if allFailed == !targets.isEmpty {
            throw ValidationError("give job ids or paths, or --all-failed (one of the two)")
        }
        if allFailed, force { throw ValidationError("--force takes job ids or paths, not --all-failed") }
    }

    func run() throws {
        let config = try options.load()
        let store = try dryRun ? options.openExistingStoreForReading(config) : options.openStore(config)
        if allFailed {
            Console.out(
                Self.summary(
                    try store.retryFailed(ids: nil, dryRun: dryRun, fileIsGone: Job.fileIsGone), dryRun: dryRun))
            return
        }
        var missing = false
        for target in targets {
            let byID = Int64(target).flatMap { target.contains("/") ? nil : $0 }
            let found = try byID.map { try store.job(id: $0) } ?? store.latestJob(path: RawPath.absolute(target))
            guard let job = found else {
                Console.error(
                    byID != nil
                        ? "no job with id \(target)" : NoJobReason.explain(RawPath.absolute(target), config: config))
                missing = true
                continue
            }
            let id = job.id
            if job.state != .failed, !(force && job.state == .done) {
                Console.error(
                    "job \(id) is \(job.state.rawValue), not failed\(job.state == .done ? " (--force uploads a done job again)" : "")"
                        + "; left as it is")
                continue
            }
            // Its file went to done_dir/failed_dir or was deleted after upload: queued again it could only
            // fail as "file vanished" (and a done job would turn failed). Say where it is instead.
            if Job.fileIsGone(job) {
                let whereNow =
                    job.movedTo.map { "; it was moved to \($0.display) — enqueue that file to upload it again" } ?? ""
                Console.error("job \(id): \(job.path.display) is no longer there\(whereNow); left as it is")
                missing = true
                continue
            }
            // The dry run asks the store the same question the real run does (a newer job of the file wins).
            if try store.retryFailed(ids: [id], includeDone: force, dryRun: dryRun, fileIsGone: Job.fileIsGone).queued
                .isEmpty
            {
                let newest = try store.latestJob(path: job.path)
                Console.error(
                    "job \(id): a newer job of \(job.path.display) (job \(newest.map { "\($0.id), \($0.state.rawValue)" } ?? "?")) carries the file now; left as it is"
                )
            } else if dryRun {
                Console.out("job \(id) would be queued again: \(job.path.display) (dry run)")
            } else {
                Console.out("job \(id) queued again" + (job.dismissed ? " (no longer dismissed)" : ""))
            }
        }
        if missing { throw ExitCode(Daemon.Exit.noInput.rawValue) }
    }

    /// One line for `--all-failed`, worded alike for the dry run and the real one: the numbers are the same
    /// decisions (JobStore.retryFailed makes both), so a script can compare them.
    static func summary(_ result: JobStore.RetryResult, dryRun: Bool) -> String {
        var left: [String] = []
        if !result.superseded.isEmpty {
            left.append("\(result.superseded.count) superseded by a newer job of the same file")
        }
        if !result.gone.isEmpty {
            left.append(
                "\(result.gone.count) whose file is no longer there (enqueue it from done_dir/failed_dir to upload it again)"
            )
        }
        let head =
            dryRun
            ? "would queue \(result.queued.count) failed jobs again" : "\(result.queued.count) failed jobs queued again"
        return head + (left.isEmpty ? "" : "; left as they are: " + left.joined(separator: ", "))
            + (dryRun ? " (dry run)" : "")
    }
}
