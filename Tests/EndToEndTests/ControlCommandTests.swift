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

/// The control subcommands as scripts use them: output, JSON keys and exit codes, including their errors.
@Suite("Control subcommands", .serialized)
struct ControlCommandTests {
    @Test("status with no database yet prints zero counts and no daemon")
    func statusWithoutDatabase() throws {
        let fixture = try DaemonFixture()
        let (status, output, _) = try fixture.runCommand(["status", "--config", fixture.configPath, "--json"])
        #expect(status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        #expect(
            (object["jobs"] as? [String: Int]) == [
                "queued": 0, "uploading": 0, "retrying": 0, "done": 0, "failed": 0, "total": 0,
            ])
        let daemon = try #require(object["daemon"] as? [String: Any])
        #expect(daemon["running"] as? Bool == false)
        #expect(daemon["pid"] is NSNull)
        #expect(daemon["paused"] is NSNull)
        #expect(object["oldest_waiting_s"] is NSNull)
    }

    @Test("enqueue backfills a folder honouring include/exclude, and rejects a missing path with exit 65")
    func enqueue() throws {
        let fixture = try DaemonFixture()
        let backlog = fixture.directory + "/backlog"
        try FileManager.default.createDirectory(atPath: backlog + "/sub", withIntermediateDirectories: true)
        for (index, name) in ["a.png", "sub/b.PNG", ".hidden.png", "c.tmp", "notes.txt"].enumerated() {
            try writeFile(
                atPath: backlog + "/" + name,
                contents: Data(SampleImages.png(width: 4, height: 4, seed: UInt64(index))))
        }
        let (missing, _, missingError) = try fixture.runCommand([
            "enqueue", "--config", fixture.configPath, backlog, "/no/such/file.png",
        ])
        #expect(missing == 65)
        #expect(missingError.contains("/no/such/file.png"))
        #expect(fixture.counts().values.reduce(0, +) == 0, "nothing queued when one argument is wrong")

        let (status, output, _) = try fixture.runCommand(["enqueue", "--config", fixture.configPath, backlog])
        #expect(status == 0)
        #expect(output.contains("2 queued"))
        let (again, againOutput, _) = try fixture.runCommand(["enqueue", "--config", fixture.configPath, backlog])
        #expect(again == 0)
        #expect(againOutput.contains("0 queued"))
        try fixture.start()
        #expect(fixture.waitForFinished(count: 2))
        #expect(fixture.counts()[.done] == 2)
        fixture.stop()
    }

    @Test("show by path and by id (text and JSON); unknown id and unknown path exit 65")
    func show() throws {
        let fixture = try DaemonFixture()
        let path = try fixture.drop("shown.png", seed: 42)
        try fixture.start()
        #expect(fixture.waitForFinished(count: 1))
        fixture.stop()
        let (byPath, text, _) = try fixture.runCommand(["show", "--config", fixture.configPath, path])
        #expect(byPath == 0)
        #expect(text.contains("state:       done"))
        #expect(text.contains("https://imagedelivery.net/"))
        let (byID, json, _) = try fixture.runCommand(["show", "--config", fixture.configPath, "1", "--json"])
        #expect(byID == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["path"] as? String == path)
        #expect(object["state"] as? String == "done")
        #expect((object["variants"] as? [String])?.count == 2)

        let (unknownID, _, idError) = try fixture.runCommand(["show", "--config", fixture.configPath, "999"])
        #expect(unknownID == 65)
        #expect(idError.contains("no job with id 999"))
        let (unknownPath, _, pathError) = try fixture.runCommand([
            "show", "--config", fixture.configPath, fixture.inbox + "/other.png",
        ])
        #expect(unknownPath == 65)
        #expect(pathError.contains("no job for path"))
    }

    @Test("retry puts failed jobs back (by id and --all-failed); unknown ids exit 65; usage errors exit 64")
    func retry() throws {
        let fixture = try DaemonFixture()
        let bad = fixture.inbox + "/broken.jpg"
        try writeFile(atPath: bad, contents: Data("not an image".utf8))
        try fixture.start()
        #expect(fixture.waitForFinished(count: 1))
        fixture.stop()
        #expect(fixture.counts()[.failed] == 1)

        let (usage, _, _) = try fixture.runCommand(["retry", "--config", fixture.configPath])
        #expect(usage == 64)
        let (unknown, _, unknownError) = try fixture.runCommand(["retry", "--config", fixture.configPath, "77"])
        #expect(unknown == 65)
        #expect(unknownError.contains("no job with id 77"))

        // Fix the file, then retry it: it uploads.
        try writeFile(atPath: bad, contents: Data(SampleImages.png(width: 4, height: 4, seed: 9)))
        let (retried, output, _) = try fixture.runCommand(["retry", "--config", fixture.configPath, "--all-failed"])
        #expect(retried == 0)
        #expect(output.contains("1 failed jobs queued again"))
        let job = try #require(try fixture.store().job(id: 1))
        #expect(job.state == .queued && job.attempts == 0 && job.lastError == nil)
    }

    @Test("export streams csv, json and ndjson of done jobs")
    func export() throws {
        let fixture = try DaemonFixture()
        try fixture.drop("one, with comma.png", seed: 1)
        try fixture.drop("two.png", seed: 2)
        try fixture.start()
        #expect(fixture.waitForFinished(count: 2))
        fixture.stop()
        let (csvStatus, csv, _) = try fixture.runCommand(["export", "--config", fixture.configPath, "--format", "csv"])
        #expect(csvStatus == 0)
        let lines = csv.split(separator: "\n")
        #expect(lines.first == "id,path,state,image_id,sha256,uploaded_at,size,variants,moved_to")
        #expect(lines.count == 3)
        #expect(csv.contains("\"\(fixture.inbox)/one, with comma.png\""))
        let (jsonStatus, json, _) = try fixture.runCommand([
            "export", "--config", fixture.configPath, "--format", "json",
        ])
        #expect(jsonStatus == 0)
        let array = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        #expect(array.count == 2)
        #expect(
            array.allSatisfy { ($0["image_id"] as? String)?.count == 64 && ($0["variants"] as? [String])?.count == 2 })
        let (ndStatus, nd, _) = try fixture.runCommand(["export", "--config", fixture.configPath, "--format", "ndjson"])
        #expect(ndStatus == 0)
        #expect(nd.split(separator: "\n").count == 2)
        let (badFormat, _, _) = try fixture.runCommand(["export", "--config", fixture.configPath, "--format", "xml"])
        #expect(badFormat == 64)
    }

    @Test("an unreadable database is reported, not crashed on")
    func unreadableDatabase() throws {
        let fixture = try DaemonFixture()
        try FileManager.default.createDirectory(
            atPath: (fixture.database as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true)
        try writeFile(atPath: fixture.database, contents: Data("this is not sqlite at all, just text".utf8))
        for command in [["status"], ["show", "1"], ["export"]] {
            let (status, _, error) = try fixture.runCommand(
                [command[0], "--config", fixture.configPath] + command.dropFirst())
            #expect(status == 65, "\(command): \(status) \(error)")
            #expect(error.contains(fixture.database), "\(command): \(error)")
            #expect(error.split(separator: "\n").count == 1)
        }
    }

    @Test("check verifies the token against the API: 0 when accepted, 69 when refused or unreachable")
    func check() throws {
        var emulator = EmulatorConfiguration()
        emulator.tokens = ["imagedrop-test-token-0123456789"]
        let fixture = try DaemonFixture(emulator: emulator)
        let (ok, output, _) = try fixture.runCommand(["check", "--config", fixture.configPath])
        #expect(ok == 0)
        #expect(output.contains("configuration OK"))
        let (refused, _, refusedError) = try fixture.runCommand(
            ["check", "--config", fixture.configPath],
            environment: ["CLOUDFLARE_API_TOKEN": "some-other-token-value"])
        #expect(refused == 69)
        #expect(refusedError.contains("token refused"))
        #expect(!refusedError.contains("some-other-token-value"), "the token never appears in errors")
        try fixture.emulator.stop()
        let (unreachable, _, unreachableError) = try fixture.runCommand(["check", "--config", fixture.configPath])
        #expect(unreachable == 69)
        #expect(unreachableError.contains("unreachable"))
    }

    @Test("prune removes old done jobs only")
    func prune() throws {
        let fixture = try DaemonFixture()
        try fixture.drop("p.png", seed: 5)
        try writeFile(atPath: fixture.inbox + "/bad.png", contents: Data("x".utf8))
        try fixture.start()
        #expect(fixture.waitForFinished(count: 2))
        fixture.stop()
        let (keep, keepOutput, _) = try fixture.runCommand([
            "prune", "--config", fixture.configPath, "--older-than-days", "1",
        ])
        #expect(keep == 0 && keepOutput.hasPrefix("0 done jobs"))
        let (all, allOutput, _) = try fixture.runCommand([
            "prune", "--config", fixture.configPath, "--older-than-days", "0",
        ])
        #expect(all == 0 && allOutput.hasPrefix("1 done jobs"))
        #expect(fixture.counts()[.failed] == 1)
        #expect(fixture.counts()[.done] == 0)
    }

    @Test("run --once processes the backlog and exits 0; with a refused token it exits 69 and keeps the jobs queued")
    func runOnce() throws {
        let fixture = try DaemonFixture()
        for index in 0..<5 { try fixture.drop("once-\(index).png", seed: UInt64(300 + index)) }
        let (status, _, error) = try fixture.runCommand(["run", "--once", "--config", fixture.configPath])
        #expect(status == 0, "\(error)")
        #expect(fixture.counts()[.done] == 5)
        #expect(fixture.counts()[.uploading] == 0)

        try fixture.drop("later.png", seed: 400)
        fixture.emulator.setFaults(
            {
                var faults = FaultConfiguration()
                faults.refuseTokens = true
                return faults
            }())
        let (refused, _, refusedError) = try fixture.runCommand(["run", "--once", "--config", fixture.configPath])
        #expect(refused == 69, "\(refusedError)")
        #expect(fixture.counts()[.queued] == 1)
        #expect(fixture.counts()[.failed] == 0)
    }

    @Test("control commands that write while the daemon runs do not lock the daemon out of its table")
    func writersBesideTheDaemon() throws {
        let fixture = try DaemonFixture(settleMillis: 0)
        try fixture.drop("first.png", seed: 1)
        try fixture.start()
        #expect(fixture.waitForFinished(count: 1))
        // Let the daemon run its periodic reads (status line, heartbeat) so its connection is in the state a
        // long-running daemon is in when an operator runs a command.
        let firstBeat = try fixture.store().daemonRecord().heartbeatAt
        #expect(fixture.waitUntil(seconds: 15) { (try? fixture.store().daemonRecord().heartbeatAt) != firstBeat })
        let backlog = fixture.directory + "/backlog"
        try FileManager.default.createDirectory(atPath: backlog, withIntermediateDirectories: true)
        for index in 0..<5 {
            try writeFile(
                atPath: backlog + "/b\(index).png",
                contents: Data(SampleImages.png(width: 4, height: 4, seed: UInt64(600 + index))))
        }
        let (status, _, error) = try fixture.runCommand(["enqueue", "--config", fixture.configPath, backlog])
        #expect(status == 0, "\(error)")
        let (retried, _, _) = try fixture.runCommand(["retry", "--config", fixture.configPath, "--all-failed"])
        #expect(retried == 0)
        try fixture.drop("after.png", seed: 2)
        #expect(fixture.waitForFinished(count: 7, seconds: 30))
        #expect(fixture.counts()[.done] == 7)
        #expect(!fixture.log.contains("database is locked"), "\(fixture.log)")
        fixture.stop()
    }
}
