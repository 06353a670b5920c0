import Foundation
import Glibc
import ProcessHarness

/// The one seeded schedule: file actions most of the time, API fault periods, operator and process actions.
extension Soak {
    func run() throws {
        // The very first start creates and migrates the database: kill it somewhere in there once.
        try startDaemon()
        usleep(UInt32(dice.int(0...150)) * 1000)
        stopDaemon(kill: true)
        count("kill -9 during the first start (migrations)")
        try startDaemon()
        guard awaitReady() else { throw SpawnError(description: "the daemon did not start; see \(world.daemonLog)") }
        try startFleet()
        let end = startedAt + options.minutes * 60
        let quarter = options.minutes * 15
        var lastKill = now
        var iterations = 0
        while now < end, iterations < 1_000_000 {
            iterations += 1
            noteExitIfAny()
            if daemon == nil {
                try startDaemon()
                awaitReady()
            }
            sampleCommandLine()
            try fleetStep()
            if faults.expired(now: now, dice: &dice) { try? emulator.setFaults(FaultSchedule.clear) }
            // after_upload moves and sidecars on during the second and fourth quarters.
            let wantMoves = Int((now - startedAt) / quarter) % 2 == 1
            if wantMoves != settings.moves {
                try reload { $0.moves = wantMoves }
                log("SIGHUP: after_upload \(wantMoves ? "move + sidecars" : "keep")")
                count("SIGHUP (after_upload)")
            }
            let weights: [Double] = [
                14, 4, 4, 2, 3, 3, 9, 4, 5, 0.7, 0.7, 0.8, 4,  // files
                6,  // API faults
                2.5, 0.8, 1.2, 0.4, 1.2, 0.8, 0.4, 1.5, 0.8,  // process and operator
            ]
            switch dice.weighted(weights) {
            case 0: newFile()
            case 1: slowWrite()
            case 2: partThenRename()
            case 3: folderMovedIn()
            case 4: treeThenFiles()
            case 5: sameBytesTwice()
            case 6: rewrite()
            case 7: deleteOne()
            case 8: badFile()
            case 9: fifo()
            case 10: symlinkOut()
            case 11: folderDeletedAndRecreated()
            case 12: collidingName()
            case 13:
                if let (name, json) = faults.next(now: now, dice: &dice) {
                    try? emulator.setFaults(json)
                    log("API: \(name)")
                    count("API fault period")
                }
            case 14:
                let change = dice.int(0...2)
                try reload { settings in
                    switch change {
                    case 0:
                        // 7 draws eight workers pinned: claims come in batches from eight on (ClaimReservoir).
                        let draw = self.dice.int(1...7)
                        settings.workers = draw == 7 ? 8 : draw
                    case 1: settings.excludeGIF.toggle()
                    default: settings.watchB.toggle()
                    }
                }
                log(
                    "SIGHUP: workers \(settings.workersText), watch b \(settings.watchB), exclude *.gif \(settings.excludeGIF)"
                )
                count("SIGHUP (config change)")
            case 15 where now - lastKill > 10:
                try restart(kill: false)
                lastKill = now
                log("SIGTERM + restart (pid \(daemon?.pid ?? 0))")
                count("SIGTERM + restart")
            case 16 where now - lastKill > 8:
                try restart(kill: true)
                lastKill = now
                log("kill -9 + restart (pid \(daemon?.pid ?? 0))")
                count("kill -9 + restart")
            case 17 where now - lastKill > 8:
                let delay = dice.int(0...400)
                try restart(kill: true, earlyKillMillis: delay)
                lastKill = now
                log("kill -9, restart, kill -9 again \(delay) ms into start-up, restart")
                count("kill -9 during start-up")
            case 18:
                let paths = model.sortedPaths
                let target =
                    paths.isEmpty || dice.chance(0.3)
                    ? [dice.chance(0.5) ? world.rootA : world.rootB] : [dice.pick(paths)]
                // The file may be gone (moved or deleted): 65 is a legitimate answer then.
                let result = command(
                    ["enqueue"] + target.map { String(decoding: $0, as: UTF8.self) }, expectSuccess: false)
                if result.status != 0, result.status != 65 { commandFailures.append("enqueue exited \(result.status)") }
                count("enqueue")
            case 19:
                command(["retry", "--all-failed"])
                count("retry --all-failed")
            case 20:
                command(["prune", "--older-than-days", "0"])
                prunedAt.append(now)
                log("prune")
                count("prune")
            case 21:
                let result = command(["status", "--json"])
                if result.status == 0, (try? JSONValueLite.parse(result.output)) == nil {
                    commandFailures.append("status --json printed no JSON")
                }
                count("status --json")
            case 22:
                command(["export", "--format", dice.pick(["csv", "json", "ndjson"])])
                count("export")
            default:
                break
            }
            usleep(UInt32(dice.int(20...400)) * 1000)
        }
    }
}

/// Just enough JSON to check that a command printed an object, and to read `status --json` and sidecars.
enum JSONValueLite {
    static func parse(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }
}
