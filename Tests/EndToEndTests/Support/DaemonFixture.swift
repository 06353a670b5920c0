import Foundation
import Glibc
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import ImagedropTestSupport
import ImagesEmulator

/// A temporary world for one end-to-end test: a drop folder, a job table, a config file, the emulator
/// in-process on an ephemeral loopback port, and the real `imagedrop` binary run as a child process.
/// Everything is removed in deinit (the daemon is killed first if still running).
final class DaemonFixture: @unchecked Sendable {
    // @unchecked: a fixture belongs to one test; its mutable `process` is only touched by that test's task.
    let directory: String
    let inbox: String
    let database: String
    let configPath: String
    let emulator: EmulatorServer
    /// The daemon's `$NOTIFY_SOCKET`: `start` waits for its READY=1, tests read STATUS, WATCHDOG, RELOADING.
    let notify: NotifyListener
    /// The token every fixture's daemon and commands use (an emulator configuration may need it before the fixture).
    static let sharedToken = "imagedrop-test-token-0123456789"
    let token = DaemonFixture.sharedToken
    let accountID = "023e105f4ecef8ad9ca31a8372d0c353"
    private(set) var process: Process?
    private(set) var logPath: String

    /// Whether deinit stops the emulator: not when it is another fixture's (several daemons against one API).
    private let ownsEmulator: Bool

    convenience init(
        emulator configuration: EmulatorConfiguration = EmulatorConfiguration(), settleMillis: Int = 100,
        extraConfig: String = ""
    ) throws {
        var emulatorConfiguration = configuration
        emulatorConfiguration.port = 0
        emulatorConfiguration.host = "127.0.0.1"
        try self.init(
            server: try EmulatorServer.start(emulatorConfiguration), ownsEmulator: true, settleMillis: settleMillis,
            extraConfig: extraConfig)
    }

    /// Another daemon, with its own folder and database, against `other`'s emulator: a fleet's hosts share one API
    /// (and, with the same token, one rate limit there). `other` must outlive this fixture.
    convenience init(sharingEmulatorOf other: DaemonFixture, settleMillis: Int = 100, extraConfig: String = "") throws {
        try self.init(server: other.emulator, ownsEmulator: false, settleMillis: settleMillis, extraConfig: extraConfig)
    }

    private init(server: EmulatorServer, ownsEmulator: Bool, settleMillis: Int, extraConfig: String) throws {
        var template = "/tmp/imagedrop-test-XXXXXX".utf8CString
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard let created else { throw SystemError(call: "mkdtemp") }
        directory = String(cString: created)
        inbox = directory + "/inbox"
        database = directory + "/state/jobs.sqlite3"
        configPath = directory + "/imagedrop.toml"
        logPath = directory + "/daemon.log"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        // The database's folder exists, as systemd's StateDirectory= makes it: `check` creates nothing.
        try FileManager.default.createDirectory(atPath: directory + "/state", withIntermediateDirectories: true)
        emulator = server
        self.ownsEmulator = ownsEmulator
        notify = try NotifyListener(directory: directory)
        try writeConfig(settleMillis: settleMillis, extra: extraConfig)
    }

    deinit {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        if ownsEmulator { try? emulator.stop() }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Writes the config. `extra` is TOML appended verbatim; it may override `[upload]` keys by repeating
    /// none of the ones written here (the defaults below are test-friendly: fast backoff, short grace).
    func writeConfig(settleMillis: Int, extra: String = "", uploadSection: String? = nil) throws {
        let upload =
            uploadSection ?? """
                workers = 4
                backoff_initial_ms = 50
                backoff_max_ms = 2000
                request_timeout_s = 10
                shutdown_grace_s = 5
                pause_probe_s = 1
                """
        let text = """
            [cloudflare]
            account_id = "\(accountID)"
            api_base_url = "\(emulator.apiBaseURL)"

            [watch]
            paths = ["\(inbox)"]
            settle_ms = \(settleMillis)
            rescan_interval_s = 600

            [queue]
            database = "\(database)"

            [upload]
            \(upload)

            \(extra)
            """
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// A running daemon with two uploads in flight (two workers, four files, replies 20 s late, a 120 s grace):
    /// what the stop-signal tests signal. Claimed is not yet sent, so it waits for both POSTs to be in the
    /// emulator's log — under load a signal between claim and send would end the limiter wait instead.
    static func withTwoUploadsInFlight(seedBase: UInt64) throws -> (DaemonFixture, pid_t) {
        var emulator = EmulatorConfiguration()
        emulator.faults.latencyMs = 20_000
        let fixture = try DaemonFixture(emulator: emulator, settleMillis: 0)
        try fixture.writeConfig(
            settleMillis: 0,
            uploadSection: """
                workers = 2
                request_timeout_s = 60
                shutdown_grace_s = 120
                """)
        for index in 0..<4 { try fixture.drop("slow\(index).png", seed: seedBase + UInt64(index)) }
        try fixture.start()
        guard let pid = fixture.process?.processIdentifier,
            fixture.waitUntil(
                seconds: 20,
                {
                    // The third file may be held too, prepared for the next free worker (nothing sent for it).
                    (fixture.counts()[.uploading] ?? 0) >= 2
                        && fixture.emulator.requestLog().filter { $0.method == "POST" }.count == 2
                })
        else { throw FixtureError("two uploads never got in flight:\n\(fixture.log)") }
        return (fixture, pid)
    }

    /// A fixture whose config ends with an `[after_upload]` section; `DIR` in it stands for the fixture's folder.
    static func withAfterUpload(_ afterUpload: String) throws -> DaemonFixture {
        let fixture = try DaemonFixture()
        let text =
            try String(contentsOfFile: fixture.configPath, encoding: .utf8) + "\n[after_upload]\n"
            + afterUpload
            .replacingOccurrences(of: "DIR", with: fixture.directory)
        try text.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        return fixture
    }

    static var packageRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// The built binary next to the test bundle (same build folder, whatever --scratch-path was used).
    static func binary(_ name: String) -> String {
        let bundleDirectory = Bundle.main.bundleURL.deletingLastPathComponent()
        for candidate in [
            Bundle.main.bundleURL.appendingPathComponent(name), bundleDirectory.appendingPathComponent(name),
        ]
        where FileManager.default.isExecutableFile(atPath: candidate.path) {
            return candidate.path
        }
        return packageRoot + "/.build/debug/" + name
    }

    /// An `[upload]` body for the budget tests: `requests` per `windowSeconds` as the budget, quick retries, a
    /// long enough backoff cap for a Retry-After to be obeyed whole.
    static func budgetedUpload(workers: Int, requests: Int, windowSeconds: Int) -> String {
        """
        workers = \(workers)
        max_attempts = 8
        backoff_initial_ms = 50
        backoff_max_ms = 20000
        request_timeout_s = 10
        shutdown_grace_s = 5
        pause_probe_s = 1
        requests_per_5min = \(requests)
        rate_window_s = \(windowSeconds)
        """
    }

    var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["CLOUDFLARE_API_TOKEN"] = token
        env["NOTIFY_SOCKET"] = notify.path
        env.removeValue(forKey: "JOURNAL_STREAM")
        env.removeValue(forKey: "IMAGEDROP_CONFIG")
        return env
    }

    /// Starts `imagedrop run` and waits until it is ready: watches armed, start-up scan queued, workers
    /// running — its READY=1 on the notify socket, as systemd waits for it. Waiting only for the lock would
    /// let a test act before the watches exist.
    /// `launcher` runs the daemon through another program (e.g. `["/usr/bin/prlimit", "--nofile=64:128", "--"]`).
    func start(arguments: [String] = [], environment extra: [String: String] = [:], launcher: [String] = []) throws {
        let readiesBefore = notify.count(of: "READY=1")
        let process = Process()
        let command = launcher + [Self.binary("imagedrop"), "run", "--config", configPath] + arguments
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.environment = environment.merging(extra) { $1 }
        // Appended across restarts, so a test can read the whole story (and count the starts).
        if !FileManager.default.fileExists(atPath: logPath) { try writeFile(atPath: logPath, contents: nil) }
        let log = FileHandle(forWritingAtPath: logPath)!
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        self.process = process
        // A daemon that exits (a config error, or `--once` with nothing to do) never sends READY=1: the exit
        // is watched too, so a refusal is reported at once rather than after the whole timeout.
        let started = waitUntil(seconds: 30) {
            self.notify.wait(for: "READY=1", count: readiesBefore + 1, seconds: 0.1) || !process.isRunning
        }
        guard started, process.isRunning || notify.count(of: "READY=1") > readiesBefore else {
            throw FixtureError("daemon did not start: \(self.log)")
        }
    }

    /// Sends `signal` and waits for the exit status.
    @discardableResult
    func stop(signal: Int32 = SIGTERM, timeout: Double = 60) -> Int32 {
        guard let process else { return -1 }
        kill(process.processIdentifier, signal)
        _ = waitUntil(seconds: timeout) { !process.isRunning }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        self.process = nil
        return process.terminationStatus
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func store() throws -> JobStore { try JobStore(path: database, readOnly: true) }

    func counts() -> [JobState: Int] {
        (try? StatusReport.load(database: database))?.snapshot.counts ?? [:]
    }

    func jobs() throws -> [Job] {
        let store = try store()
        var result: [Job] = []
        var id: Int64 = 1
        var misses = 0
        while misses < 50 {
            if let job = try store.job(id: id) {
                result.append(job)
                misses = 0
            } else {
                misses += 1
            }
            id += 1
        }
        return result
    }

    /// Writes a real PNG into the drop folder under `name` (via a temporary name outside the include
    /// patterns, then rename, as careful producers do) unless `direct`.
    @discardableResult
    func drop(_ name: String, bytes: [UInt8]? = nil, seed: UInt64 = 0, direct: Bool = false) throws -> String {
        let path = inbox + "/" + name
        let data = Data(bytes ?? SampleImages.png(width: 16, height: 16, seed: seed))
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if direct {
            try writeFile(atPath: path, contents: data)
        } else {
            let temporary = path + ".part"
            try writeFile(atPath: temporary, contents: data)
            rename(temporary, path)
        }
        return path
    }

    /// The test kit's `eventually(within:)`, under the name a hundred and more call sites use.
    @discardableResult
    func waitUntil(seconds: Double, _ condition: () -> Bool) -> Bool {
        eventually(within: seconds, condition)
    }

    /// Waits until every job is finished (done or failed) and at least `count` exist.
    @discardableResult
    func waitForFinished(count: Int, seconds: Double = 60) -> Bool {
        waitUntil(seconds: seconds) {
            let counts = self.counts()
            let finished = (counts[.done] ?? 0) + (counts[.failed] ?? 0)
            let total = counts.values.reduce(0, +)
            return total >= count && finished == total
        }
    }

    /// Runs an `imagedrop` subcommand to completion: (exit status, stdout, stderr).
    func runCommand(_ arguments: [String], environment extra: [String: String] = [:]) throws -> (Int32, String, String)
    {
        try Self.run(Self.binary("imagedrop"), arguments, environment: environment.merging(extra) { $1 })
    }

    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String],
        currentDirectory: String? = nil
    ) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        process.arguments = arguments
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: outData, as: UTF8.self),
            String(decoding: errData, as: UTF8.self)
        )
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
