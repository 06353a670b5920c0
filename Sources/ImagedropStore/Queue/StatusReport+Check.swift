/// `status --check` / `--exit-code`: the daemon's state as an exit code, for monitoring scripts (the way
/// `systemctl is-active` answers). The codes follow the LSB init-script `status` convention where it has one
/// (0 running, 1 dead with its record left behind, 3 not running, 4 status unknown: a daemon that holds its
/// lock and has stopped beating) and stay clear of the sysexits codes the
/// other commands use (64…78).
extension StatusReport {
    package enum Health: Int32, Sendable {
        /// A daemon holds the lock and its queue is not paused.
        case running = 0
        /// No daemon runs and the last one did not record its stop (killed, crashed, power lost).
        case stoppedUncleanly = 1
        /// A daemon runs but its queue is paused (token refused, API unreachable…): nothing is uploaded.
        case paused = 2
        /// No daemon runs; the last one stopped cleanly, or none ever ran on this database.
        case notRunning = 3
        /// A daemon holds the lock but its heartbeat is older than `DaemonRecord.staleAfterBeats` intervals: it is
        /// stopped (SIGSTOP), wedged or starved — the one state where "running" would be a lie.
        case notResponding = 4
    }

    /// A daemon started on this database and is gone without its clean-stop record.
    package var stoppedUncleanly: Bool { !running && daemon.startedAt != nil && daemon.stoppedAt == nil }

    package var health: Health {
        if running {
            if responding == false { return .notResponding }
            return pausedReason == nil ? .running : .paused
        }
        return stoppedUncleanly ? .stoppedUncleanly : .notRunning
    }

    /// The one line `status --check` prints.
    package var healthLine: String {
        switch health {
        case .running: return "running (pid \(pid.map(String.init) ?? "?"))"
        case .paused: return "paused (pid \(pid.map(String.init) ?? "?")): \(pausedReason ?? "")"
        case .notResponding: return notRespondingText
        case .stoppedUncleanly: return "not running: \(uncleanStopText)"
        case .notRunning: return "not running" + (daemon.stoppedAt.map { " (stopped \($0))" } ?? "")
        }
    }

    package var uncleanStopText: String {
        "did not stop cleanly (pid \(daemon.pid.map(String.init) ?? "?"), last heartbeat \(daemon.heartbeatAt ?? "unknown"))"
    }
}
