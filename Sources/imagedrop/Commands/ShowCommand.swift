import ArgumentParser
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSystem

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "One job in full, by path or job id.",
        discussion: """
            Examples:
              imagedrop show 42
              imagedrop show /srv/imagedrop/inbox/cat.jpg --json
            Exit codes: 0 ok; 65 no such job, or the database or its folder does not exist or cannot be read; 77
            this user may not read the database; 78 the config file cannot be read (one that does not load is a
            warning: the database it names is read).
            """)

    @OptionGroup var options: ConfigOption
    @Flag(name: .long, help: "Print JSON.") var json = false
    @Argument(help: "A file path or a job id.") var target: String

    func run() throws {
        let reading = try options.loadForReading()
        let store = try options.openExistingStoreForReading(database: reading.database)
        var job: Job?
        if let id = Int64(target), !target.contains("/") { job = try store.job(id: id) }
        if job == nil { job = try store.latestJob(path: RawPath.absolute(target)) }
        guard let job else {
            Console.error(
                Int64(target) != nil && !target.contains("/")
                    ? "no job with id \(target)"
                    : reading.config.map { NoJobReason.explain(RawPath.absolute(target), config: $0) }
                        ?? "no job for path \(RawPath.absolute(target).display) (the config file does not load: why not is unknown)"
            )
            throw ExitCode(Daemon.Exit.noInput.rawValue)
        }
        Console.out(json ? JobRendering.json(JobRendering.dictionary(job), pretty: true) : JobRendering.text(job))
    }
}
