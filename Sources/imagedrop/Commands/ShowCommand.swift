import ArgumentParser
import ImagedropSystem
import ImagedropStore
import ImagedropPipeline
import ImagedropDaemon

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "One job in full, by path or job id.",
                                                            discussion: """
            Examples:
              imagedrop show 42
              imagedrop show /srv/imagedrop/inbox/cat.jpg --json
            Exit codes: 0 ok; 65 no such job, or the database cannot be read; 78 config error.
            """)

    @OptionGroup var options: ConfigOption
    @Flag(name: .long, help: "Print JSON.") var json = false
    @Argument(help: "A file path or a job id.") var target: String

    func run() throws {
        let config = try options.load()
        let store = try options.openExistingStoreForReading(config)
        var job: Job?
        if let id = Int64(target), !target.contains("/") { job = try store.job(id: id) }
        if job == nil { job = try store.latestJob(path: RawPath.absolute(target)) }
        guard let job else {
            Console.error(Int64(target) != nil && !target.contains("/") ? "no job with id \(target)"
                          : NoJobReason.explain(RawPath.absolute(target), config: config))
            throw ExitCode(Daemon.Exit.noInput.rawValue)
        }
        Console.out(json ? JobRendering.json(JobRendering.dictionary(job), pretty: true) : JobRendering.text(job))
    }
}
