import Foundation
import Glibc
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import ImagedropTestSupport
import ImagesEmulator
import Testing

/// How the binary meets its process environment: signals outside `run`, a busy database at start-up, the umask.
@Suite("Process edges", .serialized)
struct ProcessEdgeTests {
    @Test("Ctrl-C ends a `check` waiting on a slow API at once (SIGINT is blocked only in `run`)")
    func sigintEndsCheck() throws {
        var emulator = EmulatorConfiguration()
        emulator.faults.latencyMs = 30_000
        let fixture = try DaemonFixture(emulator: emulator)
        try fixture.writeConfig(settleMillis: 100, uploadSection: "request_timeout_s = 60")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DaemonFixture.binary("imagedrop"))
        process.arguments = ["check", "--config", fixture.configPath]
        process.environment = fixture.environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        #expect(
            fixture.waitUntil(seconds: 20) { !fixture.emulator.requestLog().isEmpty }, "check never reached the API")
        kill(process.processIdentifier, SIGINT)
        // The API answers only after 30 s: ending before that means the signal, not the reply, ended it.
        #expect(fixture.waitUntil(seconds: 10) { !process.isRunning }, "check ignored SIGINT")
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGINT)
    }

    @Test("run waits out another process's write lock at start-up and then starts")
    func startWaitsForBusyDatabase() throws {
        let fixture = try DaemonFixture()
        try FileManager.default.createDirectory(
            atPath: (fixture.database as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true)
        _ = try JobStore(path: fixture.database)  // created and migrated, as after an earlier run
        let holder = try Database(path: fixture.database)
        try holder.execute("BEGIN IMMEDIATE")  // what `prune` holds while it deletes
        var released = false
        defer { if !released { try? holder.execute("ROLLBACK") } }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: DaemonFixture.binary("imagedrop"))
        process.arguments = ["run", "--config", fixture.configPath]
        process.environment = fixture.environment
        try writeFile(atPath: fixture.logPath, contents: nil)
        let log = try #require(FileHandle(forWritingAtPath: fixture.logPath))
        process.standardOutput = log
        process.standardError = log
        try process.run()
        defer {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }

        // Past busy_timeout (5 s) the first try gives up; the daemon must say it waits, not exit 78.
        #expect(fixture.waitUntil(seconds: 20) { fixture.log.contains("database is busy") || !process.isRunning })
        #expect(process.isRunning, "daemon exited while the database was busy: \(fixture.log)")
        try holder.execute("COMMIT")
        released = true
        #expect(fixture.waitUntil(seconds: 20) { fixture.log.contains("imagedrop started") || !process.isRunning })
        #expect(process.isRunning)
        kill(process.processIdentifier, SIGTERM)
        #expect(fixture.waitUntil(seconds: 30) { !process.isRunning })
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    @Test(
        "The database and its -wal and -shm files are created 0640 under umask 0 and umask 077",
        arguments: ["0", "077"])
    func databaseMode(umask mask: String) throws {
        let fixture = try DaemonFixture()
        let image = try fixture.drop("m.png", seed: 401)
        let command = "umask \(mask) && exec \"$0\" enqueue --config \"$1\" \"$2\""
        let (status, _, error) = try DaemonFixture.run(
            "/bin/sh",
            [
                "-c", command, DaemonFixture.binary("imagedrop"),
                fixture.configPath, image,
            ],
            environment: fixture.environment)
        #expect(status == 0, "\(error)")
        for suffix in ["", "-wal", "-shm"] {
            var info = stat()
            #expect(stat(fixture.database + suffix, &info) == 0, "\(fixture.database + suffix) missing")
            #expect(
                info.st_mode & 0o777 == 0o640,
                "\(suffix.isEmpty ? "database" : suffix) is \(String(info.st_mode & 0o777, radix: 8)) under umask \(mask)"
            )
        }
    }
}
