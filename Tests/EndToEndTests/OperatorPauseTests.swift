import Foundation
import Glibc
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import ImagesEmulator
import Testing

/// `imagedrop pause` / `resume` as an operator uses them around maintenance: recorded in the table, so they
/// hold with or without a daemon and across restarts; the running daemon follows within a second or two.
@Suite("Operator pause", .serialized)
struct OperatorPauseTests {
    static func uploads(_ fixture: DaemonFixture) -> Int {
        fixture.emulator.requestLog().filter { $0.method == "POST" }.count
    }

    static func daemonJSON(_ fixture: DaemonFixture) throws -> [String: Any] {
        let (_, out, error) = try fixture.runCommand(["status", "--json", "--config", fixture.configPath])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], "\(error)")
        return try #require(object["daemon"] as? [String: Any])
    }

    @Test(
        "paused before the daemon starts: nothing sent, jobs queued with no attempt, across a restart; resume uploads them"
    )
    func pauseHoldsAcrossRestarts() throws {
        let fixture = try DaemonFixture()
        for index in 0..<3 { try fixture.drop("held\(index).png", seed: 920 + UInt64(index)) }
        let (paused, out, error) = try fixture.runCommand([
            "pause", "--reason", "disk swap", "--config", fixture.configPath,
        ])
        #expect(paused == 0, "\(error)")
        #expect(out.hasPrefix("queue paused by operator: disk swap\nno daemon runs"), "\(out)")
        #expect(try Self.daemonJSON(fixture)["paused"] as? String == "paused by operator: disk swap")

        for _ in 0..<2 {
            try fixture.start()
            #expect(fixture.waitUntil(seconds: 10) { fixture.counts()[.queued] == 3 }, "the start-up scan queues them")
            let check = try fixture.runCommand(["status", "--check", "--config", fixture.configPath])
            #expect(check.0 == 2 && check.1.hasSuffix("): paused by operator: disk swap\n"), "\(check)")
            // Two turns of the loop and of every worker: had it sent, it would have by now (settle_ms is 100).
            usleep(2_500_000)
            #expect(Self.uploads(fixture) == 0)
            #expect(try fixture.jobs().allSatisfy { $0.state == .queued && $0.attempts == 0 })
            #expect(fixture.stop() == 0)
        }

        let (resumed, resumedOut, _) = try fixture.runCommand(["resume", "--config", fixture.configPath])
        #expect(
            resumed == 0 && resumedOut.hasPrefix("resumed (was paused by operator: disk swap, since "), "\(resumedOut)")
        #expect(try Self.daemonJSON(fixture)["paused"] is NSNull)
        try fixture.start()
        #expect(fixture.waitForFinished(count: 3, seconds: 20))
        #expect(fixture.counts()[.done] == 3)
        #expect(fixture.stop() == 0)
        let again = try fixture.runCommand(["resume", "--config", fixture.configPath])
        #expect(again.0 == 0 && again.1 == "not paused by the operator: nothing to resume\n", "\(again)")
    }

    @Test("pause while running: the daemon stops sending within two seconds, a new file stays queued; resume sends it")
    func runningDaemonFollows() throws {
        let fixture = try DaemonFixture()
        try fixture.drop("first.png", seed: 931)
        try fixture.start()
        #expect(fixture.waitForFinished(count: 1))
        let (paused, out, _) = try fixture.runCommand(["pause", "--config", fixture.configPath])
        #expect(paused == 0)
        #expect(
            out.contains(
                "queue paused by operator\nthe running daemon (pid \(fixture.process!.processIdentifier)) stops sending"
            ), "\(out)")
        #expect(
            fixture.waitUntil(seconds: 2) { fixture.log.contains("queue paused by the operator") }, "\(fixture.log)")
        #expect(try Self.daemonJSON(fixture)["paused"] as? String == "paused by operator")

        let sent = Self.uploads(fixture)
        try fixture.drop("second.png", seed: 932)
        #expect(fixture.waitUntil(seconds: 5) { fixture.counts()[.queued] == 1 })
        usleep(2_500_000)
        #expect(Self.uploads(fixture) == sent, "a request went out under the operator's pause")
        #expect(try fixture.jobs().first { $0.path.display.hasSuffix("second.png") }?.attempts == 0)

        #expect(try fixture.runCommand(["resume", "--config", fixture.configPath]).0 == 0)
        #expect(fixture.waitForFinished(count: 2, seconds: 10))
        #expect(fixture.counts()[.done] == 2)
        #expect(fixture.stop() == 0)
    }

    @Test("a refused token waits pause_probe_s for its next probe; a SIGHUP after fixing the token file probes at once")
    func hangupProbesAtOnce() throws {
        var emulator = EmulatorConfiguration()
        emulator.tokens = ["imagedrop-test-token-0123456789"]
        let fixture = try DaemonFixture(emulator: emulator)
        let tokenFile = fixture.directory + "/api-token"
        try "a-token-the-emulator-refuses-0000\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        chmod(tokenFile, 0o600)
        try fixture.writeConfig(
            settleMillis: 100, extra: "",
            uploadSection: """
                workers = 2
                request_timeout_s = 10
                shutdown_grace_s = 5
                pause_probe_s = 600
                """)
        let text = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        try text.replacingOccurrences(of: "[cloudflare]", with: "[cloudflare]\napi_token_file = \"\(tokenFile)\"")
            .write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        try fixture.drop("waiting.png", seed: 941)
        try fixture.start(environment: ["CLOUDFLARE_API_TOKEN": ""])
        #expect(
            fixture.waitUntil(seconds: 20) {
                (try? fixture.runCommand(["status", "--check", "--config", fixture.configPath]))?.0 == 2
            }, "the refused token never paused the queue: \(fixture.log)")

        try "imagedrop-test-token-0123456789\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        kill(fixture.process!.processIdentifier, SIGHUP)
        #expect(fixture.waitForFinished(count: 1, seconds: 10), "the queue waited for its next probe: \(fixture.log)")
        #expect(fixture.log.contains("SIGHUP: probing the paused queue now"))
        #expect(fixture.stop() == 0)
    }

    @Test(
        "pause as root before the first start: the new table belongs to its folder's owner, so that user's daemon can write it"
    )
    func rootPauseLeavesTheTableToTheDaemonsUser() throws {
        let fixture = try DaemonFixture()
        let state = fixture.directory + "/state"
        #expect(chown(state, 65534, 65534) == 0)
        #expect(try fixture.runCommand(["pause", "--config", fixture.configPath]).0 == 0)
        for path in [fixture.database, fixture.database + "-wal", fixture.database + "-shm"] {
            var info = stat()
            #expect(
                stat(path, &info) == 0 && info.st_uid == 65534 && info.st_gid == 65534, "\(path): uid \(info.st_uid)")
        }
    }

    @Test("pause --reason must be one line of at most 200 characters (64 otherwise)")
    func reasonIsChecked() throws {
        let fixture = try DaemonFixture()
        for reason in ["", "two\nlines", String(repeating: "x", count: 201)] {
            let (status, _, error) = try fixture.runCommand([
                "pause", "--reason", reason, "--config", fixture.configPath,
            ])
            #expect(status == 64, "\(reason.debugDescription): \(error)")
        }
        #expect(access(fixture.database, F_OK) != 0, "a refused pause wrote nothing")
    }
}
