import Foundation
import Glibc
import ProcessHarness

/// The end of a run: faults off, the base config back, one clean restart (a full start-up scan), then wait
/// until every file the model knows has its final job and nothing is in flight.
extension Soak {
    func settle() throws -> (quiet: Bool, seconds: Double) {
        try? emulator.setFaults(FaultSchedule.clear)
        settings.watchB = true
        settings.excludeGIF = false
        try world.writeConfig(settings, emulator: emulator)
        try restart(kill: false)
        log("settling: faults off, both roots watched, clean restart (pid \(daemon?.pid ?? 0))")
        let begin = now
        // Scaled with the run: the backlog drains at about requests_per_5min per rate_window_s.
        let timeout = 120 + options.minutes * 10
        var quietSince: Double?
        var quiet = false
        Clock.waitUntil(timeout: timeout, interval: 0.5) {
            noteExitIfAny()
            if daemon == nil {
                try? startDaemon()
                awaitReady()
            }
            guard let table = JobTable(path: world.database), let rows = table.rows() else { return false }
            if settledEverywhere(rows) {
                quietSince = quietSince ?? now
                // Quiet for longer than settle_ms and one rescan, so nothing is still on its way in.
                quiet = now - quietSince! > Double(World.settleMillis) / 1000 + 6
                return quiet
            }
            quietSince = nil
            return false
        }
        stopDaemon(kill: false)
        return (quiet, now - begin)
    }

    /// No job in flight or waiting, no owed after-upload action, and every path's newest job is about its
    /// final content (or the path's history was pruned after it was written).
    func settledEverywhere(_ rows: [JobTable.Row]) -> Bool {
        if rows.contains(where: { ["queued", "uploading", "retrying"].contains($0.state) }) { return false }
        if let table = JobTable(path: world.database), (table.owedActions() ?? 1) > 0 { return false }
        let newest = newestJobs(rows)
        for (path, entry) in model.live {
            guard let job = newest[path] else {
                if let last = prunedAt.last, last > entry.writtenAt { continue }
                return false
            }
            // Settled means finished about this version; whether it finished right is for the checks.
            guard job.state == "done" || job.state == "failed" else { return false }
            if let content = entry.content, let sha = job.sha256, sha != content.sha256 {
                if let last = prunedAt.last, last > entry.writtenAt { continue }  // its own job was pruned
                return false
            }
        }
        return true
    }

    func newestJobs(_ rows: [JobTable.Row]) -> [[UInt8]: JobTable.Row] {
        var newest: [[UInt8]: JobTable.Row] = [:]
        for row in rows where (newest[row.path]?.id ?? -1) < row.id { newest[row.path] = row }
        return newest
    }
}
