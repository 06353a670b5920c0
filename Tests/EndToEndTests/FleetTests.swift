import Foundation
import Glibc
import ImagedropTestSupport
import ImagesEmulator
import Testing

/// Three real daemons, each with its own folder and database, on one emulator and one token, coordinated through a
/// real redis-server: the emulator's limit is the fleet's budget, and what one host learns every host obeys.
@Suite("Fleet", .serialized)
struct FleetTests {
    static let limit = 10
    static let windowSeconds = 4
    static let filesPerHost = 6

    final class Fleet {
        let redis: RedisServer
        let hosts: [DaemonFixture]

        /// Every host's `[upload]`: the emulator's limit as the fleet's budget, quick retries.
        static let uploadSection = DaemonFixture.budgetedUpload(
            workers: 3, requests: FleetTests.limit, windowSeconds: FleetTests.windowSeconds)

        /// `extra`: more TOML for every host (e.g. `[http]`); `uploadSection`: another `[upload]` for every host.
        init(emulator: EmulatorConfiguration, extra: String = "", uploadSection: String? = nil) throws {
            redis = try RedisServer()
            var hosts: [DaemonFixture] = []
            let first = try DaemonFixture(emulator: emulator, settleMillis: 0)
            hosts.append(first)
            for _ in 1..<3 { hosts.append(try DaemonFixture(sharingEmulatorOf: first, settleMillis: 0)) }
            for (index, host) in hosts.enumerated() {
                try host.writeConfig(
                    settleMillis: 0,
                    extra: """
                        [fleet]
                        redis = "unix:\(redis.socketPath)"
                        host = "host-\(index)"
                        key_prefix = "e2e"

                        \(extra)
                        """,
                    uploadSection: uploadSection ?? Fleet.uploadSection)
            }
            self.hosts = hosts
        }

        func dropAndStart(seedBase: UInt64) throws {
            for (index, host) in hosts.enumerated() {
                for file in 0..<FleetTests.filesPerHost {
                    try host.drop("h\(index)-\(file).png", seed: seedBase + UInt64(index * 100 + file))
                }
            }
            for host in hosts { try host.start() }
        }

        func allDone(seconds: Double) -> Bool {
            hosts.allSatisfy { $0.waitForFinished(count: FleetTests.filesPerHost, seconds: seconds) }
        }

        func stop() {
            for host in hosts { #expect(host.stop() == 0) }
            redis.stop()
        }

        var log: [LoggedRequest] { hosts[0].emulator.requestLog() }
    }

    static func emulator() -> EmulatorConfiguration {
        var emulator = EmulatorConfiguration()
        emulator.rateLimitRequests = limit
        emulator.rateLimitWindowSeconds = Double(windowSeconds)
        return emulator
    }

    @Test("Three hosts, one token, a small budget: all uploaded, no 429, no window over the budget")
    func sharedBudget() throws {
        let fleet = try Fleet(emulator: Self.emulator())
        try fleet.dropAndStart(seedBase: 9_000)
        #expect(fleet.allDone(seconds: 90))
        fleet.stop()
        let log = fleet.log
        let busiest = RequestBudgetTests.busiestWindow(log, windowMillis: Int64(Self.windowSeconds) * 1000)
        print(
            "[fleet] \(log.count) requests, 429: \(log.filter { $0.status == 429 }.count), busiest \(Self.windowSeconds) s window: \(busiest) (budget \(Self.limit))"
        )
        #expect(log.filter { $0.status == 429 }.isEmpty)
        #expect(busiest <= Self.limit)
        #expect(log.filter { $0.method == "POST" && $0.status == 200 }.count == 3 * Self.filesPerHost)
    }

    @Test("A 429 one host sees stops every host for its Retry-After")
    func blockIsFleetWide() throws {
        var emulator = Self.emulator()
        emulator.rateLimitRequests = 1000
        emulator.faults.rateLimitProbability = 1
        emulator.faults.retryAfterSeconds = 3
        let fleet = try Fleet(emulator: emulator)
        try fleet.dropAndStart(seedBase: 9_500)
        #expect(fleet.hosts[0].waitUntil(seconds: 20) { fleet.log.contains { $0.status == 429 } })
        var healthy = emulator.faults
        healthy.rateLimitProbability = 0
        fleet.hosts[0].emulator.setFaults(healthy)
        #expect(fleet.allDone(seconds: 90))
        fleet.stop()
        let log = fleet.log
        let first429 = log.filter { $0.status == 429 }.map(\.receivedAtMillis).min() ?? 0
        // Requests already granted when the first 429 arrived may land just after it; none in the block after that.
        let duringBlock = log.filter { $0.receivedAtMillis > first429 + 300 && $0.receivedAtMillis < first429 + 2_700 }
        print(
            "[fleet 429] \(log.count) requests, first 429 at \(first429), \(duringBlock.count) inside its Retry-After")
        #expect(duringBlock.isEmpty, "sent during the fleet's block: \(duringBlock.map(\.path))")
    }

    @Test("Redis SIGKILLed mid-run: uploads go on (degraded), and the hosts rejoin once redis-server is back")
    func redisOutage() throws {
        let fleet = try Fleet(emulator: Self.emulator())
        try fleet.dropAndStart(seedBase: 9_800)
        #expect(fleet.hosts[0].waitUntil(seconds: 30) { fleet.log.filter { $0.status == 200 }.count >= 3 })
        fleet.redis.kill()
        let atKill = fleet.log.count
        #expect(fleet.hosts[0].waitUntil(seconds: 30) { fleet.log.count >= atKill + 2 })
        // The next heartbeat (every 5 s) records it: `status` says so while Redis is gone.
        let host = fleet.hosts[0]
        #expect(
            host.waitUntil(seconds: 15) {
                ((try? host.runCommand(["status", "--config", host.configPath]))?.1 ?? "").contains(
                    "fleet:    degraded (redis unreachable")
            })
        try fleet.redis.restart()
        #expect(fleet.allDone(seconds: 120))
        // Rejoined: the next heartbeat clears it (`status --json` "fleet": {"degraded": null}).
        #expect(
            host.waitUntil(seconds: 15) {
                let out = (try? host.runCommand(["status", "--json", "--config", host.configPath]))?.1 ?? ""
                let json = (try? JSONSerialization.jsonObject(with: Data(out.utf8))) as? [String: Any]
                return (json?["fleet"] as? [String: Any])?["degraded"] is NSNull
            })
        let logs = fleet.hosts.map { (try? String(contentsOfFile: $0.logPath, encoding: .utf8)) ?? "" }
        fleet.stop()
        #expect(logs.contains { $0.contains("fleet: degraded") })
        #expect(logs.contains { $0.contains("fleet: redis answers again") })
        // Degraded hosts go on at 80% of the budget over the hosts alive: still no 429.
        #expect(fleet.log.filter { $0.status == 429 }.isEmpty)
    }

    @Test("fleet pause holds every host (status shows it and the three hosts), fleet resume lets them finish")
    func pauseAndResume() throws {
        let fleet = try Fleet(emulator: Self.emulator())
        let host = fleet.hosts[1]
        let (paused, _, _) = try host.runCommand([
            "fleet", "pause", "--reason", "e2e swap", "--config", host.configPath,
        ])
        #expect(paused == 0)
        try fleet.dropAndStart(seedBase: 9_900)
        // Every host is up (its heartbeat is in Redis) and none has sent anything.
        var status: [String: Any] = [:]
        #expect(
            host.waitUntil(seconds: 20) {
                let out = (try? host.runCommand(["fleet", "status", "--json", "--config", host.configPath]))?.1 ?? ""
                status =
                    ((try? JSONSerialization.jsonObject(with: Data(out.utf8))) as? [String: Any])?["fleet"]
                    as? [String: Any] ?? [:]
                return (status["hosts"] as? [[String: Any]])?.filter { $0["last_beat_s"] is NSNumber }.count == 3
            })
        #expect(status["paused"] as? String == "e2e swap")
        #expect(status["blocked_until"] is NSNull)
        #expect((status["budget"] as? [String: Any])?["requests"] as? Int == Self.limit)
        let hosts = status["hosts"] as? [[String: Any]] ?? []
        #expect(hosts.map { $0["host"] as? String } == ["host-0", "host-1", "host-2"])
        // Each host took the pause from its grant: its own state says so.
        #expect(
            hosts.allSatisfy {
                $0["state"] as? String == "paused" && $0["jobs"] is [String: Any] && $0["version"] is String
            })
        #expect(fleet.log.isEmpty, "sent while the fleet was paused: \(fleet.log.count)")
        let (resumed, out, _) = try host.runCommand(["fleet", "resume", "--config", host.configPath])
        #expect(resumed == 0 && out.contains("fleet resumed"))
        #expect(fleet.allDone(seconds: 90))
        fleet.stop()
        #expect(fleet.log.filter { $0.status == 429 }.isEmpty)
    }

    /// libfaketime, as Debian's `faketime` package installs it (`.ci/run` does); nil where it is not installed.
    static let libfaketime: String? = [
        "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1", "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
        "/usr/lib/faketime/libfaketime.so.1",
    ].first { FileManager.default.fileExists(atPath: $0) }

    @Test("Hosts whose clocks are off by minutes (libfaketime: +7 min, -6 min) change nothing: one budget, all done")
    func clockSkew() throws {
        guard let library = Self.libfaketime else {
            print("[fleet clock] skipped: libfaketime is not installed (apt-get install faketime)")
            return
        }
        let fleet = try Fleet(emulator: Self.emulator())
        for (index, host) in fleet.hosts.enumerated() {
            for file in 0..<Self.filesPerHost {
                try host.drop("h\(index)-\(file).png", seed: 9_950 + UInt64(index * 100 + file))
            }
        }
        // The whole process sees the shifted clock: wall time, file times and CLOCK_MONOTONIC alike, as on a host
        // whose clock was set wrong before the daemon started.
        let offsets = [0, 7 * 60, -6 * 60]
        for (host, offset) in zip(fleet.hosts, offsets) {
            let shifted = offset == 0 ? [:] : ["LD_PRELOAD": library, "FAKETIME": "\(offset > 0 ? "+" : "")\(offset)s"]
            try host.start(environment: shifted)
        }
        let startedAt = Date()
        #expect(fleet.allDone(seconds: 90))
        // Every host is alive in the fleet's view, whatever its clock: beats are stamped by Redis's `TIME`.
        let host = fleet.hosts[0]
        var ages: [Int] = []
        #expect(
            host.waitUntil(seconds: 20) {
                let out = (try? host.runCommand(["fleet", "status", "--json", "--config", host.configPath]))?.1 ?? ""
                let status =
                    ((try? JSONSerialization.jsonObject(with: Data(out.utf8))) as? [String: Any])?["fleet"]
                    as? [String: Any] ?? [:]
                ages = (status["hosts"] as? [[String: Any]] ?? []).compactMap { $0["last_beat_s"] as? Int }
                return ages.count == 3 && ages.allSatisfy { $0 >= 0 && $0 < 30 }
            }, "last beats \(ages)")
        // The shift took: each host stamped its own rows with its own (wrong) clock.
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for (host, offset) in zip(fleet.hosts, offsets) {
            let stamps = try host.jobs().compactMap { formatter.date(from: $0.createdAt) }
            let skew = (stamps.map { $0.timeIntervalSince(startedAt) }.min() ?? 0)
            #expect(stamps.count == Self.filesPerHost)
            #expect(abs(skew - Double(offset)) < 45, "host clock offset \(offset) s, rows stamped \(skew) s off")
        }
        fleet.stop()
        let log = fleet.log
        let busiest = RequestBudgetTests.busiestWindow(log, windowMillis: Int64(Self.windowSeconds) * 1000)
        print("[fleet clock] \(log.count) requests, 429: \(log.filter { $0.status == 429 }.count), busiest \(busiest)")
        #expect(log.filter { $0.status == 429 }.isEmpty)
        #expect(busiest <= Self.limit)
        #expect(log.filter { $0.method == "POST" && $0.status == 200 }.count == 3 * Self.filesPerHost)
    }

    @Test("fleet status exits 69 when Redis cannot be reached and 78 without [fleet]")
    func exitCodes() throws {
        let fleet = try Fleet(emulator: Self.emulator())
        let host = fleet.hosts[0]
        fleet.redis.stop()
        let (unreachable, _, error) = try host.runCommand(["fleet", "status", "--config", host.configPath])
        #expect(unreachable == 69, "\(error)")
        let alone = try DaemonFixture()
        let (noFleet, _, message) = try alone.runCommand(["fleet", "status", "--config", alone.configPath])
        #expect(noFleet == 78)
        #expect(message.contains("no [fleet] section"))
    }
}
