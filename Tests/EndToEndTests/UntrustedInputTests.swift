import Foundation
import Glibc
import ImagedropStore
import ImagedropSystem
import ImagedropTestSupport
import ImagesEmulator
import Testing

/// Issue 20 end to end: a file that crashes the daemon is quarantined after two crashes instead of crashing it at
/// every start, and a host out of file descriptors makes files wait, never fail.
@Suite("Untrusted input, end to end", .serialized)
struct UntrustedInputTests {
    /// Starts the daemon and waits for it to die on its own; the exit's signal (0 if it did not die of one).
    private func runUntilCrash(_ fixture: DaemonFixture, environment: [String: String]) throws -> Int32 {
        do { try fixture.start(environment: environment) } catch {
            // It may die before READY=1: the files were there at start, and the first claim is the poison.
        }
        guard let process = fixture.process else { return 0 }
        #expect(fixture.waitUntil(seconds: 60) { !process.isRunning }, "the hook never fired:\n\(fixture.log)")
        let signal = process.terminationReason == .uncaughtSignal ? process.terminationStatus : 0
        fixture.stop()
        return signal
    }

    @Test(
        "a file that crashes the daemon in pre-flight: two crashes, then quarantined, and the third start uploads the rest"
    )
    func crashLoopEnds() throws {
        let fixture = try DaemonFixture(settleMillis: 0)
        for index in 0..<6 { try fixture.drop("ok\(index).png", seed: 700 + UInt64(index)) }
        try fixture.drop("poison.png", seed: 799)
        let hook = ["IMAGEDROP_TEST_CRASH_IN_PREFLIGHT": "poison.png"]

        let first = try runUntilCrash(fixture, environment: hook)
        #expect(
            [SIGILL, SIGTRAP].contains(first), "a Swift trap ends the process with SIGILL or SIGTRAP (got \(first))")
        let note = try String(contentsOfFile: fixture.database + ".lock", encoding: .utf8)
        #expect(note.contains("crash signal \(first)"), "the crash journal noted the signal: \(note.debugDescription)")

        let second = try runUntilCrash(fixture, environment: hook)
        #expect(second != 0, "the second start must meet the poison again (it was only suspected)")

        // Third start, the hook still armed: the poison is quarantined at recovery and never claimed again.
        try fixture.start(environment: hook)
        #expect(fixture.waitForFinished(count: 7, seconds: 60), "\(fixture.counts())\n\(fixture.log)")
        #expect(fixture.process?.isRunning == true, "the third start must not crash")
        let jobs = try fixture.jobs()
        let poison = try #require(jobs.first { $0.path.display.hasSuffix("/poison.png") })
        #expect(poison.state == .failed)
        #expect(poison.lastError == "quarantined: the daemon stopped twice while handling this file")
        #expect(jobs.filter { $0.state == .done }.count == 6)
        #expect(fixture.log.contains("job quarantined"))
        let (code, json, _) = try fixture.runCommand(["status", "--config", fixture.configPath, "--json"])
        #expect(code == 0 && json.contains("quarantined: the daemon stopped twice while handling this file"))
        fixture.stop()
    }

    @Test(
        "out of file descriptors (a small hard RLIMIT_NOFILE, idle connections held to the endpoint): files wait, none fails"
    )
    func descriptorsRunOut() throws {
        let fixture = try DaemonFixture(settleMillis: 0)
        let port = try LoopbackPort.free()
        try fixture.writeConfig(
            settleMillis: 0,
            extra: """
                [http]
                listen = "127.0.0.1:\(port)"
                max_connections = 200
                request_timeout_s = 4
                """,
            uploadSection: """
                workers = 8
                max_attempts = 30
                backoff_initial_ms = 100
                backoff_max_ms = 1000
                request_timeout_s = 10
                shutdown_grace_s = 5
                pause_probe_s = 1
                """)
        // Soft 48, hard 96: run must raise the soft limit to 96, and 200 idle connections then take every spare one.
        try fixture.start(launcher: ["/usr/bin/prlimit", "--nofile=48:96", "--"])
        #expect(fixture.log.contains("soft_before=48") || fixture.log.contains("soft_before: 48"), "\(fixture.log)")
        var held: [Int32] = []
        for _ in 0..<200 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if connected == 0 { held.append(fd) } else { close(fd) }
        }
        defer { for fd in held { close(fd) } }
        usleep(300_000)  // let the daemon accept them: its descriptors are now spent
        for index in 0..<30 { try fixture.drop("f\(index).png", seed: 900 + UInt64(index)) }
        var everFailed = 0
        let finished = fixture.waitUntil(seconds: 90) {
            let counts = fixture.counts()
            everFailed = max(everFailed, counts[.failed] ?? 0)
            return (counts[.done] ?? 0) == 30
        }
        #expect(finished, "\(fixture.counts())\n\(fixture.log.suffix(4000))")
        #expect(everFailed == 0)
        #expect(fixture.counts()[.failed] ?? 0 == 0)
        print("[fds] waits logged for descriptors: \(fixture.log.components(separatedBy: "for now").count - 1)")
        fixture.stop()
    }
}
