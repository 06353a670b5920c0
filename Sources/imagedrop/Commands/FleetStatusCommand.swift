import ArgumentParser
import Glibc
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem

struct FleetStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Every host seen in the last 24 h, the fleet's budget, block and pause.",
        discussion: """
            A host is offline after 30 s without a heartbeat. JSON: {"fleet": {"budget": {"requests": N, \
            "window_s": N}, "blocked_until": null|"…Z", "paused": null|"reason", "hosts": [{"host", "state", \
            "last_beat_s", "jobs", "uploads_last_minute", "version"}]}}.
            """)

    @OptionGroup var options: ConfigOption
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() throws {
        let (config, control) = try FleetCommand.connect(options)
        let status: [String: Any]
        do {
            status = try control.status(
                budgetRequests: config.upload.requestsPer5Min, windowSeconds: config.upload.rateWindowSeconds)
        } catch {
            throw FleetCommand.unavailable(error, config)
        }
        if json {
            Console.out(try JSONWriter.string(status, options: [.sortedKeys, .escapingSlashes]))
            return
        }
        let fleet = status["fleet"] as? [String: Any] ?? [:]
        let blocked = fleet["blocked_until"] as? String
        let paused = fleet["paused"] as? String
        Console.out(
            "fleet:    budget \(config.upload.requestsPer5Min) requests per \(config.upload.rateWindowSeconds) s"
                + (blocked.map { "; blocked by the API until \($0)" } ?? "")
                + (paused.map { "; PAUSED: \($0) (`imagedrop fleet resume` lifts it)" } ?? ""))
        for host in fleet["hosts"] as? [[String: Any]] ?? [] {
            let jobs = (host["jobs"] as? [String: Any] ?? [:]).sorted { $0.key < $1.key }.map {
                "\($0.value) \($0.key)"
            }
            let beat = (host["last_beat_s"] as? Int64).map { "beat \($0) s ago" } ?? "no beat"
            Console.out(
                "\(host["host"] as? String ?? "?"): \(host["state"] as? String ?? "?"), \(beat); "
                    + "\(jobs.joined(separator: ", ")); \(host["uploads_last_minute"] ?? 0) uploads in the last minute; "
                    + "version \(host["version"] as? String ?? "unknown")")
        }
    }
}
