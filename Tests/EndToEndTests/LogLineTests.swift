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

/// Issue 15, "logs that read well": what the log and the terminal say, read from the real binary.
@Suite("Log and terminal lines", .serialized)
struct LogLineTests {
    @Test("a file ruled out locally is logged as rejected (nothing sent); an upload line carries size and duration")
    func rejectedAndUploadLines() throws {
        let fixture = try DaemonFixture(settleMillis: 0)
        try fixture.drop("notes.jpg", bytes: Array("just some text, not an image".utf8))
        let image = try fixture.drop("photo.png", seed: 4100)
        try fixture.start()
        #expect(fixture.waitForFinished(count: 2))
        #expect(fixture.stop() == 0)
        let lines = fixture.log.split(separator: "\n")
        let rejected = try #require(
            lines.first { $0.contains("notes.jpg") && $0.contains("status=failed") }, "\(fixture.log)")
        #expect(rejected.contains("level=warning msg=\"rejected\""), "\(rejected)")
        #expect(!fixture.log.contains("msg=\"upload failed\""), "a local rejection is not an upload that failed")
        #expect(fixture.emulator.requestLog().filter { $0.method == "POST" }.count == 1, "only the image was sent")
        let size = try #require(FileManager.default.attributesOfItem(atPath: image)[.size] as? Int)
        let uploaded = try #require(lines.first { $0.contains("msg=\"uploaded\"") }, "\(fixture.log)")
        #expect(uploaded.contains(" size=\(size) "), "\(uploaded)")
        #expect(uploaded.range(of: #" duration_ms=\d+"#, options: .regularExpression) != nil, "\(uploaded)")
        #expect(!fixture.log.contains("\u{1B}["), "not a terminal: plain lines, no redraws")
    }

    @Test("a JSON log carries an upload's size and duration as numbers")
    func jsonUploadLine() throws {
        let fixture = try DaemonFixture(settleMillis: 0, extraConfig: "[log]\nformat = \"json\"")
        try fixture.drop("photo.png", seed: 4150)
        let (status, _, log) = try fixture.runCommand(["run", "--once", "--config", fixture.configPath])
        #expect(status == 0, "\(log)")
        let line = try #require(log.split(separator: "\n").first { $0.contains("\"msg\":\"uploaded\"") }, "\(log)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["size"] is Int, "\(line)")
        #expect(object["duration_ms"] is Int, "\(line)")
    }

    @Test("the first SIGINT says how many uploads it waits for and for how long; a second SIGINT aborts at once")
    func firstAndSecondSignal() throws {
        let (fixture, pid) = try DaemonFixture.withTwoUploadsInFlight(seedBase: 4200)
        kill(pid, SIGINT)
        let expected =
            "stopping on SIGINT: waiting up to 120 s for 2 uploads in flight; a second SIGINT or SIGTERM aborts them"
        #expect(fixture.waitUntil(seconds: 10) { fixture.log.contains(expected) }, "\(fixture.log)")
        let line = try #require(fixture.log.split(separator: "\n").first { $0.contains(expected) })
        #expect(
            line.contains("in_flight=2") && line.contains("grace_s=120") && line.contains("signal=SIGINT"), "\(line)")
        #expect(fixture.process?.isRunning == true, "the first signal waits for in-flight uploads")
        let before = Date()
        // Without the second signal this would wait out the 120 s grace period (or the 20 s replies).
        #expect(fixture.stop(signal: SIGINT, timeout: 15) == 0)
        #expect(Date().timeIntervalSince(before) < 15)
        #expect(fixture.log.contains("second stop signal"))
        let counts = fixture.counts()
        #expect(counts[.uploading] == 0, "nothing is left uploading")
        #expect(counts[.queued] == 4, "the cut uploads went back to the queue")
    }

    @Test("a stop with nothing in flight says so")
    func stopWithNothingInFlight() throws {
        let fixture = try DaemonFixture()
        try fixture.start()
        #expect(fixture.stop(signal: SIGINT) == 0)
        #expect(fixture.log.contains("msg=\"stopping on SIGINT: no uploads in flight\""), "\(fixture.log)")
    }

    @Test("at debug level each candidate gets a line: ignored with the rule, settling, queued")
    func debugCandidateLines() throws {
        let fixture = try DaemonFixture(settleMillis: 300)
        try fixture.start(arguments: ["-v"])
        try writeFile(atPath: fixture.inbox + "/draft.tmp", contents: Data("x".utf8))
        try writeFile(atPath: fixture.inbox + "/notes.txt", contents: Data("x".utf8))
        let image = fixture.inbox + "/photo.png"
        try writeFile(atPath: image, contents: Data(SampleImages.png(width: 8, height: 8, seed: 4300)))
        #expect(fixture.waitForFinished(count: 1))
        #expect(fixture.stop() == 0)
        let log = fixture.log
        #expect(
            log.contains(
                #"msg="candidate ignored" path=\#(fixture.inbox)/draft.tmp reason="excluded by the pattern \"*.tmp\" (watch.exclude)""#
            ),
            "\(log)")
        #expect(
            log.contains(
                #"msg="candidate ignored" path=\#(fixture.inbox)/notes.txt reason="matches none of watch.include"#),
            "\(log)")
        #expect(log.contains(#"msg="candidate settling" path=\#(image)"#) && log.contains("settle_ms=300"), "\(log)")
        #expect(
            log.range(of: #"msg="candidate queued" job=\d+ path=\#(image)"#, options: .regularExpression) != nil,
            "\(log)")
    }

    @Test("at info level no candidate lines")
    func noCandidateLinesAtInfo() throws {
        let fixture = try DaemonFixture(settleMillis: 0)
        try fixture.start()
        try writeFile(atPath: fixture.inbox + "/draft.tmp", contents: Data("x".utf8))
        try fixture.drop("photo.png", seed: 4350)
        #expect(fixture.waitForFinished(count: 1))
        #expect(fixture.stop() == 0)
        #expect(!fixture.log.contains("candidate"), "\(fixture.log)")
    }

    @Test("a paused queue's line says when it re-checks and what to fix")
    func pausedLine() throws {
        var emulator = EmulatorConfiguration()
        emulator.tokens = ["the-only-accepted-token-0123456789"]
        let fixture = try DaemonFixture(emulator: emulator, settleMillis: 0)
        try fixture.drop("photo.png", seed: 4400)
        try fixture.start()
        #expect(fixture.waitUntil(seconds: 20) { fixture.log.contains("queue paused") }, "\(fixture.log)")
        #expect(fixture.stop() == 0)
        let line = try #require(fixture.log.split(separator: "\n").first { $0.contains("queue paused") })
        #expect(line.contains("msg=\"queue paused; re-checking every 1 s\"") && line.contains("recheck_s=1"), "\(line)")
        #expect(line.contains("reason=\"token refused"), "\(line)")
        #expect(
            line.contains("fix=\"the API refused the credential") && line.contains(fixture.accountID)
                && line.contains("imagedrop check"), "\(line)")
    }

    @Test("an unreachable API's paused line names the address to check")
    func pausedLineUnreachable() throws {
        let fixture = try DaemonFixture(settleMillis: 0)
        let config = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
            .replacingOccurrences(of: fixture.emulator.apiBaseURL, with: "http://127.0.0.1:1/client/v4")
        try config.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        try fixture.drop("photo.png", seed: 4450)
        try fixture.start()
        #expect(fixture.waitUntil(seconds: 20) { fixture.log.contains("queue paused") }, "\(fixture.log)")
        #expect(fixture.stop() == 0)
        let line = try #require(fixture.log.split(separator: "\n").first { $0.contains("queue paused") })
        #expect(line.contains("re-checking every 1 s") && line.contains("reason=\"API unreachable"), "\(line)")
        #expect(line.contains("fix=\"check the network path to http://127.0.0.1:1/client/v4"), "\(line)")
    }

    @Test("status and status --json give the upload rate and the backlog's ETA while a daemon works")
    func statusRateAndETA() throws {
        var emulator = EmulatorConfiguration()
        emulator.faults.latencyMs = 300
        let fixture = try DaemonFixture(emulator: emulator, settleMillis: 0)
        try fixture.writeConfig(
            settleMillis: 0,
            uploadSection: """
                workers = 1
                request_timeout_s = 10
                shutdown_grace_s = 1
                """)
        for index in 0..<60 { try fixture.drop("r\(index).png", seed: UInt64(4800 + index)) }
        try fixture.start()
        var object: [String: Any] = [:]
        let seen = fixture.waitUntil(seconds: 30) {
            guard let output = try? fixture.runCommand(["status", "--json", "-c", fixture.configPath]).1,
                let parsed = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
            else { return false }
            object = parsed
            let status = (parsed["daemon"] as? [String: Any])?["status"] as? String ?? ""
            return (parsed["throughput"] as? [String: Any])?["eta_s"] is Int && status.contains(" files/s")
                && status.contains(", ETA ")
        }
        #expect(seen, "\(object)")
        let text = try fixture.runCommand(["status", "-c", fixture.configPath]).1
        #expect(text.contains("backlog ETA "), "\(text)")
        #expect(fixture.stop() == 0)
        let after = try fixture.runCommand(["status", "--json", "-c", fixture.configPath]).1
        let stopped = try #require(try JSONSerialization.jsonObject(with: Data(after.utf8)) as? [String: Any])
        #expect((stopped["throughput"] as? [String: Any])?["eta_s"] is NSNull, "no daemon, no ETA: \(after)")
    }
}
