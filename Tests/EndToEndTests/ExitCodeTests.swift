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

/// Exit codes and summaries a script or a monitoring check can rely on, and a database that is not silently
/// replaced or created: the real binary against the emulator.
@Suite("Exit codes scripts can trust", .serialized)
struct ExitCodeTests {
    /// The last stdout line of `run --once`.
    static func summary(_ output: String) -> String {
        output.split(separator: "\n").last.map(String.init) ?? ""
    }

    @Test("run --once ends with a summary line; 0 when nothing failed, 23 when a job of the run failed")
    func onceSummaryAndPartialExit() throws {
        let fixture = try DaemonFixture(settleMillis: 0)
        let bytes = SampleImages.png(width: 16, height: 16, seed: 1501)
        try fixture.drop("a.png", bytes: bytes)
        let (first, out, error) = try fixture.runCommand(["run", "--once", "--config", fixture.configPath])
        #expect(first == 0, "\(out) \(error)")
        let line = Self.summary(out)
        #expect(line.hasPrefix("1 uploaded, 0 already stored, 0 failed, 0 left in "), "\(out)")
        #expect(line.range(of: #" in ([0-9]+h)?([0-9]+m)?[0-9]+s$"#, options: .regularExpression) != nil, "\(line)")

        // The same bytes under another name (a 409 on the content-hash id) and a text file named .jpg.
        try fixture.drop("copy.png", bytes: bytes)
        try fixture.drop("notes.jpg", bytes: Array("not an image at all".utf8))
        let (second, secondOut, secondError) = try fixture.runCommand(["run", "--once", "--config", fixture.configPath])
        #expect(second == 23, "\(secondOut) \(secondError)")
        #expect(Self.summary(secondOut).hasPrefix("0 uploaded, 1 already stored, 1 failed, 0 left in "), "\(secondOut)")
        #expect(!secondOut.contains("level="), "stdout holds only the summary; logs go to stderr")
    }

    @Test(
        "status --check: 3 before any daemon, 0 running, 3 after a clean stop, 1 and 'did not stop cleanly' after a kill"
    )
    func statusCheckAndUncleanStop() throws {
        let fixture = try DaemonFixture()
        let never = try fixture.runCommand(["status", "--check", "--config", fixture.configPath])
        #expect(never.0 == 3 && never.1 == "not running\n", "\(never)")

        try fixture.start()
        let running = try fixture.runCommand(["status", "--check", "--config", fixture.configPath])
        #expect(
            running.0 == 0 && running.1.hasPrefix("running (pid \(fixture.process!.processIdentifier))"), "\(running)")
        #expect(fixture.stop() == 0)
        let stopped = try fixture.runCommand(["status", "--check", "--config", fixture.configPath])
        #expect(stopped.0 == 3 && stopped.1.hasPrefix("not running (stopped "), "\(stopped)")

        try fixture.start()
        let pid = fixture.process!.processIdentifier
        fixture.stop(signal: SIGKILL)
        let killed = try fixture.runCommand(["status", "--check", "--config", fixture.configPath])
        #expect(killed.0 == 1, "\(killed)")
        #expect(killed.1.contains("did not stop cleanly (pid \(pid)"), "\(killed.1)")
        let text = try fixture.runCommand(["status", "--config", fixture.configPath])
        #expect(text.0 == 0, "plain status still exits 0: it answered")
        #expect(text.1.contains("daemon:   not running — did not stop cleanly"), "\(text.1)")
        let json = try fixture.runCommand(["status", "--json", "--exit-code", "--config", fixture.configPath])
        #expect(json.0 == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.1.utf8)) as? [String: Any])
        let daemon = try #require(object["daemon"] as? [String: Any])
        #expect(
            daemon["stopped_cleanly"] as? Bool == false && daemon["health"] as? String == "stoppedUncleanly",
            "\(daemon)")
    }

    @Test("status --check exits 2 while a refused token pauses the queue")
    func statusCheckPaused() throws {
        var emulator = EmulatorConfiguration()
        emulator.tokens = ["imagedrop-test-token-0123456789"]
        let fixture = try DaemonFixture(emulator: emulator)
        try fixture.start(environment: ["CLOUDFLARE_API_TOKEN": "a-token-the-emulator-refuses-0000"])
        try fixture.drop("a.png", seed: 1502)
        var last: (Int32, String, String) = (0, "", "")
        let paused = fixture.waitUntil(seconds: 30) {
            last = (try? fixture.runCommand(["status", "--check", "--config", fixture.configPath])) ?? last
            return last.0 == 2
        }
        #expect(paused, "\(last)")
        #expect(last.1.hasPrefix("paused (pid "), "\(last.1)")
        #expect(fixture.stop() == 0)
    }

    @Test("a database deleted or replaced under the running daemon: error line and exit 74 (restarted) within seconds")
    func databaseReplaced() throws {
        for replace in [false, true] {
            let fixture = try DaemonFixture()
            try fixture.start()
            let process = try #require(fixture.process)
            if replace {
                let other = fixture.directory + "/state/restored.sqlite3"
                _ = try JobStore.openForWriting(path: other)
                #expect(rename(other, fixture.database) == 0)
            } else {
                #expect(unlink(fixture.database) == 0)
            }
            #expect(fixture.waitUntil(seconds: 15) { !process.isRunning }, "the daemon kept running on the old file")
            process.waitUntilExit()
            #expect(process.terminationStatus == 74, "\(fixture.log)")
            let word = replace ? "was replaced" : "is gone"
            #expect(fixture.log.contains("level=error") && fixture.log.contains(word), "\(fixture.log)")
        }
    }

    @Test(
        "[http] listen on a port already taken: exit 74 (restarted, it passes), not 78; the failed start is no unclean stop"
    )
    func listenPortTaken() throws {
        let fixture = try DaemonFixture()
        // The emulator listens there already.
        let taken = try #require(fixture.emulator.apiBaseURL.split(separator: "/").dropFirst().first)
        try fixture.writeConfig(
            settleMillis: 100,
            extra: """
                [http]
                listen = "\(taken)"
                """)
        let (status, _, error) = try fixture.runCommand(["run", "--config", fixture.configPath])
        #expect(status == 74, "\(error)")
        #expect(
            error.contains("cannot listen on http.listen = \(taken)") && error.contains("exiting for a restart"),
            "\(error)")
        #expect(!error.contains("config error"), "\(error)")
        let check = try fixture.runCommand(["status", "--check", "--config", fixture.configPath])
        #expect(check.0 == 3, "\(check)")
    }

    @Test("check creates nothing: a database folder that does not exist is reported (78) and stays absent")
    func checkCreatesNothing() throws {
        let fixture = try DaemonFixture()
        let missing = fixture.directory + "/typo/jobs.sqlite3"
        var text = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        text = text.replacingOccurrences(of: fixture.database, with: missing)
        try text.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        let (status, out, error) = try fixture.runCommand(["check", "--offline", "--config", fixture.configPath])
        #expect(status == 78, "\(out) \(error)")
        #expect(
            error.contains("queue.database") && error.contains("\(fixture.directory)/typo does not exist"), "\(error)")
        #expect(access(fixture.directory + "/typo", F_OK) != 0, "check created the folder")

        // A folder that exists, and no table yet: reported, still not created.
        try text.replacingOccurrences(of: missing, with: fixture.database).write(
            toFile: fixture.configPath, atomically: true, encoding: .utf8)
        let (ok, okOut, okError) = try fixture.runCommand(["check", "--offline", "--config", fixture.configPath])
        #expect(ok == 0, "\(okOut) \(okError)")
        #expect(okOut.contains("not created yet"), "\(okOut)")
        #expect(access(fixture.database, F_OK) != 0, "check created the database")
    }

    /// Runs the binary as `nobody`, for whom root's 0644 files are read-only (root itself ignores modes).
    static func runAsNobody(_ fixture: DaemonFixture, _ arguments: [String]) throws -> (Int32, String, String) {
        try DaemonFixture.run(
            "/usr/bin/setpriv",
            [
                "--reuid=65534", "--regid=65534", "--clear-groups",
                DaemonFixture.binary("imagedrop"),
            ] + arguments,
            environment: fixture.environment)
    }

    @Test(
        "a read-only database: check exits 77 naming it, run exits 77 saying what to fix (no SQL, not 'config error')")
    func readOnlyDatabase() throws {
        let fixture = try DaemonFixture()
        _ = try JobStore.openForWriting(path: fixture.database)
        // nobody may enter the folders and read the config, and take the daemon lock, but not write the table.
        chmod(fixture.directory, 0o755)
        chmod(fixture.inbox, 0o755)
        chmod(fixture.configPath, 0o644)
        let lock = DaemonLock.lockPath(database: fixture.database)
        close(open(lock, O_CREAT | O_WRONLY, 0o666))
        chmod(lock, 0o666)
        chmod(fixture.database, 0o644)

        let (checked, checkOut, checkError) = try Self.runAsNobody(
            fixture, ["check", "--offline", "--config", fixture.configPath])
        #expect(checked == 77, "\(checkOut) \(checkError)")
        #expect(checkError.contains("database \(fixture.database) is read-only for uid 65534"), "\(checkError)")
        #expect(!checkError.contains("config error"))

        let (ran, _, runError) = try Self.runAsNobody(fixture, ["run", "--once", "--config", fixture.configPath])
        #expect(ran == 77, "\(runError)")
        #expect(runError.contains("owner/mode of \(fixture.database)"), "\(runError)")
        for sql in ["UPDATE", "INSERT", "PRAGMA", "config error"] { #expect(!runError.contains(sql), "\(runError)") }
    }
}
