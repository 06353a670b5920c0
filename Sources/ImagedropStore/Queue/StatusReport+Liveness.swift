import FoundationEssentials
import ImagedropSupport
import ImagedropSystem

/// What `status` says beyond the counts that an operator acts on: whether the daemon holding the lock is still
/// turning its loop, why the queue is paused, and whether the config in force is the file on disk.
extension StatusReport {
    /// Seconds since the running daemon's last heartbeat; nil when none runs or it has not written one.
    package var heartbeatAgeSeconds: Int64? {
        guard running, let millis = daemon.heartbeatMillis else { return nil }
        return max(0, readAtMillis - millis) / 1000
    }

    /// A daemon holds the lock but has not beaten for `staleAfterBeats` intervals: stopped (SIGSTOP, a debugger),
    /// wedged, or starved. true while it beats, nil when none runs.
    package var responding: Bool? {
        guard running else { return nil }
        guard let age = heartbeatAgeSeconds else { return true }
        return age <= DaemonRecord.heartbeatIntervalSeconds * DaemonRecord.staleAfterBeats
    }

    /// `running, not responding for N s`, the words `status` and `status --check` use.
    package var notRespondingText: String {
        "running, not responding for \(heartbeatAgeSeconds ?? 0) s (pid \(pid.map(String.init) ?? "?"), last heartbeat "
            + "\(daemon.heartbeatAt ?? "unknown"); it beats every \(DaemonRecord.heartbeatIntervalSeconds) s)"
    }

    /// Why nothing is sent: the operator's pause (which holds with or without a daemon) before the running
    /// daemon's own (a refused token, an unreachable API).
    package var pausedReason: String? {
        if let pause = daemon.operatorPause { return pause.text }
        return running ? daemon.paused : nil
    }

    /// The refused reload, while the daemon that refused it runs (a start loads the file whole or not at all).
    package var reloadRefused: ReloadRefusal? { running ? daemon.reloadRefused : nil }

    /// `"config": {"reload_refused": null | {"at": "…Z", "error": "…"}}`
    package var configJSON: [String: Any] {
        ["reload_refused": reloadRefused.map { ["at": $0.at, "error": $0.error] } as Any? ?? JSONNull()]
    }

    /// Why the running daemon's fleet budget goes on alone; nil while shared, stopped, or without a fleet.
    package var fleetDegraded: String? { running ? daemon.fleetDegraded : nil }

    /// The text form's `fleet:` line, only while degraded.
    package var fleetDegradedLine: String? {
        fleetDegraded.map {
            "fleet:    degraded (\($0)); sending alone at a safe share of the budget until Redis answers"
        }
    }

    /// The text form's `config:` line, nil while the file on disk is the config in force.
    package var reloadRefusedLine: String? {
        reloadRefused.map {
            "config:   reload refused at \($0.at) (\($0.error)); the previous configuration stays in force"
        }
    }
}
