import ImagedropStore
import ImagedropSupport

/// What a host tells the fleet with each heartbeat (`{prefix}:host:{host}`), as `fleet status` prints it.
package struct FleetHostReport: Sendable, Equatable {
    package var counts: [JobState: Int]
    package var uploadsLastMinute: Int
    /// The host's own pause (operator or API outage), if any.
    package var paused: String?
    package var version: String

    package init(counts: [JobState: Int], uploadsLastMinute: Int, paused: String?, version: String) {
        self.counts = counts
        self.uploadsLastMinute = uploadsLastMinute
        self.paused = paused
        self.version = version
    }

    /// `state`: degraded wins over paused (it is what the operator must fix), paused over running.
    /// `beatSeconds` is the Redis server's clock, so `fleet status` ages beats without trusting any host's clock.
    package func json(state: String, beatSeconds: Int64) -> String {
        let jobs = JobState.allCases.map { "\(JSONString.quoted($0.rawValue)): \(counts[$0] ?? 0)" }.joined(
            separator: ", ")
        return "{\"state\": \(JSONString.quoted(state)), \"beat_s\": \(beatSeconds), \"jobs\": {\(jobs)}, "
            + "\"uploads_last_minute\": \(uploadsLastMinute), \"paused\": \(JSONString.optional(paused)), "
            + "\"version\": \(JSONString.quoted(version))}"
    }
}
