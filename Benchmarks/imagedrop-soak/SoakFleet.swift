import Foundation
@preconcurrency import Glibc
import ImagedropTestSupport
import ProcessHarness

/// `--hosts N`: the soak's daemon is host 0 of a fleet; N-1 companion daemons (own folders, own databases,
/// the same token and emulator) share its budget through one redis-server, which the schedule SIGKILLs and
/// restarts among its faults. Its own dice, so the main schedule's draws are those of a lone run.
final class SoakFleet {
    struct Companion {
        let world: World
        let host: String
        var daemon: ChildProcess?
        var files = 0
    }

    let redis: RedisServer
    var companions: [Companion] = []
    var dice: Dice
    /// Contents the companions wrote: kept out of the checks about host 0's files (1, 2), in the budget's (6).
    var shas: Set<String> = []
    /// Monotonic spans during which Redis was down (a host then knows only the blocks it saw itself).
    var outages: [(from: Double, to: Double?)] = []
    var nextRedisFault: Double
    var nextFile: Double
    var redisKills = 0
    var companionKills = 0

    init(hosts: Int, seed: UInt64, root: String, now: Double) throws {
        redis = try RedisServer()
        dice = Dice(seed: seed ^ 0x666C_6565_7400)
        nextRedisFault = now + Double(dice.int(15...30))
        nextFile = now + 1
        for index in 1..<hosts {
            companions.append(
                Companion(
                    world: World(
                        root: root + "/host-\(index)", fleetSection: Self.section(redis, host: "host-\(index)")),
                    host: "host-\(index)"))
        }
    }

    static func section(_ redis: RedisServer, host: String) -> String {
        """

        [fleet]
        redis = "unix:\(redis.socketPath)"
        host = "\(host)"
        key_prefix = "soak"
        """
    }

    var redisDown: Bool { outages.last.map { $0.to == nil } ?? false }

    /// Whether Redis was down (or had just come back: a host rejoins at its next call) at monotonic `at`.
    func redisWasDown(at: Double) -> Bool {
        outages.contains { at >= $0.from && at <= ($0.to ?? .infinity) + 1.5 }
    }
}

extension Soak {
    func startFleet() throws {
        guard let fleet else { return }
        for index in fleet.companions.indices {
            try fleet.companions[index].world.writeConfig(World.Settings(), emulator: emulator)
            try startCompanion(index)
        }
        log("fleet: \(fleet.companions.count + 1) hosts on redis-server \(fleet.redis.socketPath)")
    }

    func startCompanion(_ index: Int) throws {
        guard let fleet else { return }
        var environment = ProcessInfo.processInfo.environment
        for key in [
            "NOTIFY_SOCKET", "JOURNAL_STREAM", "IMAGEDROP_CONFIG", "WATCHDOG_USEC", "WATCHDOG_PID",
            "CREDENTIALS_DIRECTORY",
        ] {
            environment.removeValue(forKey: key)
        }
        environment["CLOUDFLARE_API_TOKEN"] = emulator.token
        let world = fleet.companions[index].world
        fleet.companions[index].daemon = try ChildProcess(
            options.binDirectory + "/imagedrop", ["run", "--config", world.configPath], environment: environment,
            stdoutPath: world.daemonLog, stderrPath: world.daemonLog)
    }

    /// One step of the fleet's own schedule: a new image for a companion every second or two, Redis killed
    /// (SIGKILL) every 15-40 s and restarted 2-8 s later, now and then a companion killed and restarted.
    func fleetStep() throws {
        guard let fleet else { return }
        if now >= fleet.nextFile, !fleet.companions.isEmpty {
            let index = fleet.dice.int(0...(fleet.companions.count - 1))
            // Host 0's factory: a companion's content is one host 0 never makes (the checks leave companions'
            // contents out of host 0's; a GIF is its size alone, and two factories met in every hour-long run).
            let content = factory.image(&fleet.dice)
            let world = fleet.companions[index].world
            let path = world.rootA + Array("/c\(fleet.companions[index].files).\(content.kind.rawValue)".utf8)
            if case .written = BytePaths.write(content.bytes, to: path, chunks: 1, pauseMicros: 0) {
                fleet.shas.insert(content.sha256)
                fleet.companions[index].files += 1
            }
            fleet.nextFile = now + Double(fleet.dice.int(500...2000)) / 1000
        }
        if now >= fleet.nextRedisFault {
            if fleet.redisDown {
                try fleet.redis.restart()
                fleet.outages[fleet.outages.count - 1].to = now
                fleet.nextRedisFault = now + Double(fleet.dice.int(15...40))
                log("fleet: redis-server restarted (empty: functions and keys reloaded by the hosts)")
            } else {
                fleet.redis.kill()
                fleet.redisKills += 1
                fleet.outages.append((now, nil))
                fleet.nextRedisFault = now + Double(fleet.dice.int(2...8))
                log("fleet: redis-server SIGKILLed")
                count("fleet: redis kill -9 + restart")
            }
        }
        if fleet.dice.chance(0.002), !fleet.companions.isEmpty {
            let index = fleet.dice.int(0...(fleet.companions.count - 1))
            fleet.companions[index].daemon?.signal(SIGKILL)
            fleet.companions[index].daemon?.wait()
            try startCompanion(index)
            fleet.companionKills += 1
            log("fleet: \(fleet.companions[index].host) kill -9 + restart")
            count("fleet: companion kill -9 + restart")
        }
    }

    /// Redis back, then every companion's files done or failed (they hold only valid images: done).
    func settleFleet(timeout: Double) -> Check? {
        guard let fleet else { return nil }
        if fleet.redisDown {
            try? fleet.redis.restart()
            fleet.outages[fleet.outages.count - 1].to = now
        }
        var counts: [[String: Int]] = []
        Clock.waitUntil(timeout: timeout, interval: 0.5) {
            counts = fleet.companions.map { JobTable(path: $0.world.database)?.counts() ?? [:] }
            return zip(fleet.companions, counts).allSatisfy { companion, count in
                (count["done"] ?? 0) >= companion.files
            }
        }
        for index in fleet.companions.indices {
            if let daemon = fleet.companions[index].daemon, !daemon.hasExited { _ = daemon.stop(graceSeconds: 30) }
            fleet.companions[index].daemon = nil
        }
        let written = fleet.companions.map(\.files).reduce(0, +)
        let done = counts.map { $0["done"] ?? 0 }.reduce(0, +)
        let failed = counts.map { $0["failed"] ?? 0 }.reduce(0, +)
        return Check(
            name: "F. fleet: every companion host's image uploaded (\(fleet.companions.count) companions on one Redis)",
            passed: done >= written && failed == 0,
            figure:
                "\(written) written, \(done) done, \(failed) failed; redis killed \(fleet.redisKills)×, companions killed \(fleet.companionKills)×"
        )
    }

    func stopFleet() {
        guard let fleet else { return }
        for companion in fleet.companions {
            companion.daemon?.signal(SIGKILL)
            companion.daemon?.wait()
        }
        fleet.redis.stop()
    }
}
