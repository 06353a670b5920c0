import Foundation
@preconcurrency import Glibc
import ProcessHarness

/// The driver: starts the emulator and the daemon, runs one seeded schedule of file, API and operator
/// actions against them, keeps the model of what every file must become, then waits and checks.
final class Soak {
    let options: Options
    var dice: Dice
    var factory = ContentFactory()
    var model = Model()
    let world: World
    let emulator: Emulator
    let notify: NotifyRecorder
    var settings = World.Settings()
    var daemon: ChildProcess?
    var lives: [DaemonLife] = []
    let startedAt = Clock.monotonicSeconds()
    /// CLOCK_REALTIME µs minus CLOCK_MONOTONIC µs: the emulator stamps requests with the first.
    let realtimeOffsetMicros: Int64
    var counter = 0
    var operations: [String: Int] = [:]
    var prunedAt: [Double] = []
    var movesOffAt: Double = -1_000
    var commandFailures: [String] = []
    var unexpectedExits: [String] = []
    var tokenSightings: [String] = []
    var faults = FaultSchedule()
    /// `--hosts N` (N > 1): the redis-server and the companion daemons.
    let fleet: SoakFleet?

    init(options: Options) throws {
        self.options = options
        dice = Dice(seed: options.seed)
        let root = try Files.makeTemporaryDirectory(prefix: "imagedrop-soak-\(options.seed)")
        fleet =
            options.hosts > 1
            ? try SoakFleet(hosts: options.hosts, seed: options.seed, root: root, now: Clock.monotonicSeconds()) : nil
        world = World(root: root, fleetSection: fleet.map { SoakFleet.section($0.redis, host: "host-0") } ?? "")
        realtimeOffsetMicros = Clock.realtimeMicros() - Int64(Clock.monotonicNanos() / 1000)
        emulator = try Emulator(
            binary: options.binDirectory + "/imagedrop-emulator",
            arguments: [
                "--rate-limit", String(World.requestsPerWindow), "--rate-window", String(World.windowSeconds),
                "--seed", String(options.seed),
            ],
            scratch: root)
        notify = try NotifyRecorder(path: world.notifySocket)
        // Eight is where claims come in batches (ClaimReservoir); a reload draws it too.
        settings.workers = dice.pick([1, 2, 3, 4, 8])
        try world.writeConfig(settings, emulator: emulator)
    }

    var now: Double { Clock.monotonicSeconds() }

    func log(_ line: String) {
        let elapsed = String(format: "%7.1f", now - startedAt)
        print("[\(elapsed)s] \(line)")
        fflush(nil)
    }

    func count(_ operation: String) { operations[operation, default: 0] += 1 }

    /// Moves may happen now: they are on, or were until recently (a job finishing under the old config).
    var movesPossible: Bool { settings.moves || now - movesOffAt < 15 }

    /// Whether the daemon may have moved what the driver last wrote at `path`: a move was possible at some
    /// moment since (a file written while moves were off is moved later by a retry, a rescan after prune, or
    /// an owed action once they are on again).
    func mayHaveMoved(_ path: [UInt8]) -> Bool {
        guard let entry = model.live[path] else { return false }
        return movesPossible || entry.writtenAt < movesOffAt + 15
    }

    // MARK: the daemon

    func startDaemon() throws {
        var environment = ProcessInfo.processInfo.environment
        for key in [
            "NOTIFY_SOCKET", "JOURNAL_STREAM", "IMAGEDROP_CONFIG", "WATCHDOG_USEC", "WATCHDOG_PID",
            "CREDENTIALS_DIRECTORY",
        ] {
            environment.removeValue(forKey: key)
        }
        environment["CLOUDFLARE_API_TOKEN"] = emulator.token
        environment["NOTIFY_SOCKET"] = world.notifySocket
        environment["WATCHDOG_USEC"] = String(World.watchdogMicros)
        let spawned = now
        let child = try ChildProcess(
            options.binDirectory + "/imagedrop", ["run", "--config", world.configPath], environment: environment,
            stdoutPath: world.daemonLog, stderrPath: world.daemonLog)
        daemon = child
        lives.append(DaemonLife(pid: child.pid, spawnedAt: spawned))
    }

    /// Waits for READY=1 of the current daemon; false if it exited or took too long.
    @discardableResult
    func awaitReady(timeout: Double = 60) -> Bool {
        guard let daemon, let index = lives.indices.last else { return false }
        var readyAt: Double?
        Clock.waitUntil(timeout: timeout, interval: 0.02) {
            readyAt = notify.datagrams.first { $0.at >= lives[index].spawnedAt && $0.lines.contains("READY=1") }?.at
            return readyAt != nil || daemon.hasExited
        }
        lives[index].readyAt = readyAt
        if readyAt == nil {
            noteExitIfAny()
            return false
        }
        return true
    }

    /// Records a daemon that died without being asked (a crash, a refused start) and starts another.
    func noteExitIfAny() {
        guard let daemon, daemon.hasExited, let index = lives.indices.last, lives[index].endedAt == nil else { return }
        lives[index].endedAt = now
        lives[index].end = "exited \(daemon.exitStatus ?? -1)"
        unexpectedExits.append(
            "pid \(daemon.pid) exited \(daemon.exitStatus ?? -1) at \(String(format: "%.1f", now - startedAt))s")
        log("daemon pid \(daemon.pid) exited on its own with \(daemon.exitStatus ?? -1)")
        self.daemon = nil
    }

    /// SIGTERM (graceful, bounded by shutdown_grace_s) or SIGKILL, then reap.
    func stopDaemon(kill: Bool) {
        guard let daemon, let index = lives.indices.last else { return }
        if daemon.hasExited {
            noteExitIfAny()
            return
        }
        lives[index].endedAt = now
        lives[index].end = kill ? "SIGKILL" : "SIGTERM"
        if kill {
            daemon.signal(SIGKILL)
            daemon.wait()
        } else {
            let status = daemon.stop(graceSeconds: 30)
            if status != 0 { unexpectedExits.append("pid \(daemon.pid) exited \(status) after SIGTERM") }
        }
        self.daemon = nil
    }

    func restart(kill: Bool, earlyKillMillis: Int? = nil) throws {
        stopDaemon(kill: kill)
        try startDaemon()
        if let earlyKillMillis {
            // Killed while it opens the database, migrates, scans or replays owed moves.
            usleep(UInt32(earlyKillMillis) * 1000)
            stopDaemon(kill: true)
            try startDaemon()
        }
        if !awaitReady() {
            log("daemon did not become ready; starting another")
            try startDaemon()
            awaitReady()
        }
    }

    func reload(_ change: (inout World.Settings) -> Void) throws {
        var next = settings
        change(&next)
        if settings.moves && !next.moves { movesOffAt = now }
        settings = next
        try world.writeConfig(settings, emulator: emulator)
        daemon?.signal(SIGHUP)
    }

    /// The token must not be on the daemon's command line (environment is where it belongs).
    func sampleCommandLine() {
        guard let daemon, !daemon.hasExited, let line = BytePaths.read(Array("/proc/\(daemon.pid)/cmdline".utf8)) else {
            return
        }
        if line.count >= emulator.token.utf8.count, String(decoding: line, as: UTF8.self).contains(emulator.token) {
            tokenSightings.append("command line of pid \(daemon.pid)")
        }
    }

    // MARK: operator commands

    /// Runs an `imagedrop` subcommand to completion within `timeout`, killing it past that.
    @discardableResult
    func command(
        _ arguments: [String], timeout: Double = 60, expectSuccess: Bool = true
    ) -> (status: Int32, output: String) {
        let outPath = world.root + "/command-\(counter).out"
        counter += 1
        defer { unlink(outPath) }
        var environment = ProcessInfo.processInfo.environment
        environment["CLOUDFLARE_API_TOKEN"] = emulator.token
        for key in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "IMAGEDROP_CONFIG"] { environment.removeValue(forKey: key) }
        guard
            let child = try? ChildProcess(
                options.binDirectory + "/imagedrop", arguments + ["--config", world.configPath],
                environment: environment,
                stdoutPath: outPath, stderrPath: world.root + "/commands.err")
        else {
            commandFailures.append("\(arguments.joined(separator: " ")): could not start")
            return (-1, "")
        }
        if !Clock.waitUntil(timeout: timeout, interval: 0.01, { child.hasExited }) {
            child.signal(SIGKILL)
            child.wait()
            commandFailures.append("\(arguments.joined(separator: " ")): still running after \(Int(timeout)) s")
        }
        let status = child.exitStatus ?? -1
        let output = Files.readText(outPath) ?? ""
        if expectSuccess, status != 0 {
            commandFailures.append("\(arguments.prefix(2).joined(separator: " ")) exited \(status)")
        }
        return (status, output)
    }
}

struct Options {
    var minutes = 2.0
    var seed: UInt64 = 1
    var keep = false
    var binDirectory = ".build/release"
    /// Daemons in the fleet (one Redis); 1: a lone host, no Redis.
    var hosts = 1
}
