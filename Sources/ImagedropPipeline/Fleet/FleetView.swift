import ImagedropParsing
import ImagedropSupport
import Synchronization

/// The fleet as one host sees it through Redis: every host's last heartbeat, aged by Redis's clock. Read by
/// `fleet status` and, every heartbeat, by each daemon for its status page and `imagedrop_fleet_*` metrics.
package struct FleetView: Sendable, Equatable {
    package struct Host: Sendable, Equatable {
        package var name: String
        /// `running`, `paused`, `degraded`, or `offline` after 30 s without a heartbeat (or none yet).
        package var state: String
        package var lastBeatSeconds: Int64?
        package var jobs: [String: Int]
        package var uploadsLastMinute: Int
        package var paused: String?
        package var version: String?

        /// `beat` is the host's FleetHostReport JSON as Redis holds it (nil: never beat); anything unreadable
        /// in it reads as no figure rather than failing the whole view.
        package init(name: String, beat: String?, now: Int64) {
            self.name = name
            let report = beat.flatMap { JSONReader.object($0) } ?? [:]
            lastBeatSeconds = (report["beat_s"] as? Int).map { max(now - Int64($0), 0) }
            // A host that took grants but never beat yet (just started) counts as seen, with no figures.
            state = lastBeatSeconds.map { $0 > 30 ? "offline" : (report["state"] as? String ?? "running") } ?? "offline"
            jobs = (report["jobs"] as? [String: Any] ?? [:]).compactMapValues { $0 as? Int }
            uploadsLastMinute = report["uploads_last_minute"] as? Int ?? 0
            paused = report["paused"] as? String
            version = report["version"] as? String
        }

        /// `fleet status --json`'s host object.
        package var json: [String: Any] {
            [
                "host": name, "state": state, "last_beat_s": lastBeatSeconds as Any? ?? JSONNull(),
                "jobs": jobs, "uploads_last_minute": uploadsLastMinute, "version": version as Any? ?? JSONNull(),
            ]
        }
    }

    package static let states = ["running", "paused", "degraded", "offline"]

    package var hosts: [Host]

    package init(hosts: [Host]) { self.hosts = hosts.sorted { $0.name < $1.name } }

    /// Hosts per state, every state present (0 included), for `imagedrop_fleet_hosts{state}`.
    package var hostsByState: [(state: String, count: Int)] {
        Self.states.map { state in (state, hosts.filter { $0.state == state }.count) }
    }
}

/// What a daemon in a fleet shows of it: the view its heartbeat last read, whether it goes on alone and why,
/// and its own counters (`imagedrop_fleet_*`).
package struct FleetFigures: Sendable, Equatable {
    package var view: FleetView?
    package var degradedReason: String?
    package var pausedReason: String?
    package var grants: UInt64
    /// Grant refusals by why: `budget`, `blocked`, `paused`, `capped` (the API's Ratelimit header).
    package var waits: [(reason: String, count: UInt64)]
    package var degradedSeconds: Double

    package static func == (lhs: FleetFigures, rhs: FleetFigures) -> Bool {
        lhs.view == rhs.view && lhs.degradedReason == rhs.degradedReason && lhs.pausedReason == rhs.pausedReason
            && lhs.grants == rhs.grants && lhs.waits.map(\.count) == rhs.waits.map(\.count)
            && lhs.degradedSeconds == rhs.degradedSeconds
    }
}

extension FleetBudget {
    static let waitReasons = ["budget", "blocked", "paused", "capped"]

    package func figures() -> FleetFigures {
        let now = Timestamp.monotonicNanos()
        return state.withLock { state in
            let degraded = state.degradedNanos &+ (state.degraded != nil ? now &- min(state.degradedSince, now) : 0)
            return FleetFigures(
                view: state.view, degradedReason: state.degraded?.reason, pausedReason: state.pausedReason,
                grants: grants.load(ordering: .relaxed),
                waits: Self.waitReasons.enumerated().map { ($1, state.waits[$0] ?? 0) },
                degradedSeconds: Double(degraded) / 1e9)
        }
    }
}
