import Foundation
import Glibc
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import ImagesEmulator
import Testing

/// URL uploads end to end: `enqueue --url`/`--urls-from` and watched `*.urls` lists, through the real
/// daemon, to the emulator, which fetches each image from a small origin on loopback.
@Suite("URL uploads end to end", .serialized)
struct URLUploadTests {
    static func emulator() -> EmulatorConfiguration {
        var configuration = EmulatorConfiguration()
        configuration.fetchTimeoutMillis = 500
        return configuration
    }

    static func finished(_ jobs: [Job]) -> [Job] { jobs.filter { $0.kind == .url } }

    @Test("URLs from the CLI end done with the image's id and variants; the same URL twice is one image")
    func cliURLs() throws {
        let fixture = try DaemonFixture(emulator: Self.emulator())
        let origin = try OriginServer(directory: fixture.directory + "/origin")
        let a = try origin.serve("a.png", seed: 1)
        let b = try origin.serve("b.png", seed: 2)
        let urlA = origin.baseURL + "/files/a.png"
        let urlB = origin.baseURL + "/files/b.png"
        let (status, out, err) = try fixture.runCommand([
            "enqueue", "--config", fixture.configPath, "--url", urlA, urlB,
        ])
        #expect(status == 0, "\(err)")
        #expect(out.contains("2 URLs queued"), "\(out)")
        try fixture.start()
        #expect(fixture.waitForFinished(count: 2))
        let jobs = try fixture.jobs()
        for job in jobs {
            #expect(job.kind == .url)
            #expect(job.state == .done, "\(job.path): \(job.lastError ?? "")")
            #expect(job.imageID == SHA256Hasher.hex(of: Array((job.url ?? "").utf8)))
            #expect(job.variants.count == 2)
            #expect(job.sha256 == nil && job.size == nil)
        }
        let stored = fixture.emulator.storedImages()
        #expect(Set(stored.map(\.sha256)) == [SHA256Hasher.hex(of: a), SHA256Hasher.hex(of: b)])
        #expect(Set(stored.compactMap(\.filename)) == ["a.png", "b.png"])

        // Queued again after it finished: a new job, answered 409 and confirmed; still one image.
        let (again, _, againErr) = try fixture.runCommand(["enqueue", "--config", fixture.configPath, "--url", urlA])
        #expect(again == 0, "\(againErr)")
        #expect(fixture.waitForFinished(count: 3))
        let third = try #require(try fixture.jobs().last)
        #expect(third.state == .done, "\(third.lastError ?? "")")
        #expect(third.imageID == jobs.first { $0.url == urlA }?.imageID)
        #expect(fixture.emulator.storedImages().count == 2)
        #expect(fixture.stop() == 0)
    }

    @Test("--urls-from - reads the list from stdin; a bad --url queues nothing, exits 65 and does not echo it")
    func stdinAndBadURL() throws {
        let fixture = try DaemonFixture(emulator: Self.emulator())
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DaemonFixture.binary("imagedrop"))
        process.arguments = ["enqueue", "--config", fixture.configPath, "--urls-from", "-"]
        process.environment = fixture.environment
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data("https://a.example/1.png\n# comment\n\nhttps://a.example/2.png\n".utf8))
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("2 URLs queued"), "\(text)")

        let (status, _, err) = try fixture.runCommand([
            "enqueue", "--config", fixture.configPath, "--url",
            "https://ok.example/a.png", "https://pw:s3cret@ex ample/x.png",
        ])
        #expect(status == 65)
        #expect(err.contains("--url #2"), "\(err)")
        #expect(!err.contains("s3cret"), "\(err)")
        #expect(fixture.counts().values.reduce(0, +) == 2, "the good URL beside the bad one was not queued")
    }

    @Test("an unreachable origin, an error status, a slow origin and a non-image end failed with the API's code")
    func originFailures() throws {
        let fixture = try DaemonFixture(emulator: Self.emulator())
        let origin = try OriginServer(directory: fixture.directory + "/origin")
        try origin.serve("a.png", seed: 1)
        let urls = [
            "http://127.0.0.1:1/nothing-listens.png": 5454,
            origin.baseURL + "/status/404": 5454,
            origin.baseURL + "/status/500": 5454,
            origin.baseURL + "/slow/a.png": 5454,
            origin.baseURL + "/text": 5455,
        ]
        let (status, _, err) = try fixture.runCommand(
            ["enqueue", "--config", fixture.configPath, "--url"] + urls.keys.sorted())
        #expect(status == 0, "\(err)")
        try fixture.start()
        #expect(fixture.waitForFinished(count: urls.count))
        for job in try fixture.jobs() {
            #expect(job.state == .failed, "\(job.path)")
            #expect(job.lastCode == urls[job.url ?? ""], "\(job.path): \(job.lastError ?? "")")
            #expect(job.attempts == 1, "origin failures are permanent: \(job.path)")
        }
        #expect(fixture.emulator.storedImages().isEmpty)
        fixture.stop()
    }

    @Test("credentials in a URL work and never appear in the log, status, show or export")
    func credentialsRedacted() throws {
        let fixture = try DaemonFixture(emulator: Self.emulator())
        let origin = try OriginServer(directory: fixture.directory + "/origin", credentials: "alice:s3cret-pw")
        try origin.serve("p.png", seed: 5)
        let host = origin.baseURL.dropFirst("http://".count)
        let good = "http://alice:s3cret-pw@\(host)/private/p.png"
        let wrong = "http://alice:wr0ng-pw@\(host)/private/p.png?wrong"
        let (status, _, err) = try fixture.runCommand(["enqueue", "--config", fixture.configPath, "--url", good, wrong])
        #expect(status == 0, "\(err)")
        try fixture.start()
        #expect(fixture.waitForFinished(count: 2))
        let jobs = try fixture.jobs()
        let done = try #require(jobs.first { $0.url == good })
        #expect(done.state == .done, "\(done.lastError ?? "")")
        #expect(done.path.display == "http://alice:***@\(host)/private/p.png")
        let failed = try #require(jobs.first { $0.url == wrong })
        #expect(failed.state == .failed && failed.lastCode == 5454, "\(failed.lastError ?? "")")
        #expect(origin.requestLog.contains("GET /private/p.png auth"))
        fixture.stop()

        var outputs = [fixture.log]
        for command in [
            ["status"], ["status", "--json"], ["show", "\(done.id)"], ["show", "\(failed.id)", "--json"],
            ["export", "--format", "json"], ["export", "--format", "csv"], ["export", "--format", "ndjson"],
        ] {
            let (code, out, error) = try fixture.runCommand(
                [command[0], "--config", fixture.configPath] + command.dropFirst())
            #expect(code == 0, "\(command): \(error)")
            outputs.append(out + error)
        }
        #expect(outputs[3].contains("alice:***@"), "show names the URL, redacted: \(outputs[3])")
        for output in outputs {
            #expect(!output.contains("s3cret-pw") && !output.contains("wr0ng-pw"), "\(output)")
        }
    }

    @Test(
        "a token as the URL's whole user-info is fetched with, yet never in the job row, list, export, status, log or metadata"
    )
    func tokenUserInfoRedacted() throws {
        let fixture = try DaemonFixture(emulator: Self.emulator())
        let origin = try OriginServer(directory: fixture.directory + "/origin")
        try origin.serve("t.png", seed: 6)
        let host = origin.baseURL.dropFirst("http://".count)
        let secret = "ghp_s3cretT0KEN"
        let url = "http://\(secret)@\(host)/files/t.png"
        let (status, _, err) = try fixture.runCommand(["enqueue", "--config", fixture.configPath, "--url", url])
        #expect(status == 0, "\(err)")
        try fixture.start()
        #expect(fixture.waitForFinished(count: 1))
        let job = try #require(try fixture.jobs().first)
        #expect(job.state == .done, "\(job.lastError ?? "")")
        #expect(job.path.display == "http://***@\(host)/files/t.png")
        #expect(job.url == url, "the url column keeps the URL as given (the contract); it is never printed")
        #expect(origin.requestLog.contains("GET /files/t.png auth"), "Cloudflare's fetch got the credential")
        let stored = try #require(fixture.emulator.storedImages().first)
        #expect(stored.metaJSON.contains("\"source_url\":\"http://\(host)/files/t.png\""), "\(stored.metaJSON)")
        #expect(!stored.metaJSON.contains(secret), "\(stored.metaJSON)")
        fixture.stop()

        var outputs = [fixture.log]
        for command in [
            ["list", "--json"], ["list"], ["status", "--json"], ["show", "\(job.id)", "--json"],
            ["export", "--format", "ndjson"], ["export", "--format", "csv"],
        ] {
            let (code, out, error) = try fixture.runCommand(
                [command[0], "--config", fixture.configPath] + command.dropFirst())
            #expect(code == 0, "\(command): \(error)")
            outputs.append(out + error)
        }
        #expect(
            outputs[1].contains("http://***@\(host)/files/t.png"), "list --json names the URL, redacted: \(outputs[1])")
        for output in outputs {
            #expect(!output.contains(secret), "\(output)")
        }
    }

    @Test(
        "a watched .urls list queues its URLs; its own job ends done and is moved; a bad line fails it and queues nothing"
    )
    func watchedList() throws {
        let doneDir = NSTemporaryDirectory() + "imagedrop-urls-done-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: doneDir) }
        let fixture = try DaemonFixture(
            emulator: Self.emulator(),
            extraConfig: """
                [after_upload]
                on_success = "move"
                done_dir = "\(doneDir)"
                """)
        let origin = try OriginServer(directory: fixture.directory + "/origin")
        try origin.serve("a.png", seed: 1)
        try origin.serve("b.png", seed: 2)
        try fixture.start()
        try fixture.drop(
            "batch.urls",
            bytes: Array(
                """
                # product shots
                \(origin.baseURL)/files/a.png

                  \(origin.baseURL)/files/b.png
                """.utf8))
        #expect(fixture.waitForFinished(count: 3))
        let jobs = try fixture.jobs()
        let list = try #require(jobs.first { $0.kind == .file })
        #expect(list.state == .done, "\(list.lastError ?? "")")
        #expect(Self.finished(jobs).count == 2)
        #expect(Self.finished(jobs).allSatisfy { $0.state == .done && $0.imageID != nil })
        #expect(fixture.waitUntil(seconds: 10) { FileManager.default.fileExists(atPath: doneDir + "/batch.urls") })
        #expect(!FileManager.default.fileExists(atPath: fixture.inbox + "/batch.urls"))

        try fixture.drop(
            "bad.urls", bytes: Array("\(origin.baseURL)/files/a.png\n\nftp://example.invalid/x.png\n".utf8))
        #expect(
            fixture.waitUntil(seconds: 30) {
                (try? fixture.jobs().contains { $0.path.display.hasSuffix("bad.urls") && $0.state == .failed }) == true
            })
        let bad = try #require(try fixture.jobs().first { $0.path.display.hasSuffix("bad.urls") })
        #expect(bad.lastError?.contains("line 3") == true, "\(bad.lastError ?? "")")
        #expect(Self.finished(try fixture.jobs()).count == 2, "a bad line queues nothing")
        fixture.stop()
    }

    @Test("a 1,000-line list is queued in one transaction (a bad last line queues none) and uploaded within the budget")
    func thousandLines() throws {
        var emulator = Self.emulator()
        emulator.rateLimitRequests = 1100
        let fixture = try DaemonFixture(emulator: emulator)
        try fixture.writeConfig(
            settleMillis: 100,
            uploadSection: """
                workers = 4
                backoff_initial_ms = 50
                backoff_max_ms = 2000
                request_timeout_s = 10
                requests_per_5min = 1100
                """)
        let origin = try OriginServer(directory: fixture.directory + "/origin")
        try origin.serve("a.png", seed: 1)
        let lines = (1...1000).map { "\(origin.baseURL)/files/a.png?n=\($0)" }
        let badList = fixture.directory + "/bad-list.txt"
        try (lines.dropLast() + ["not a url"]).joined(separator: "\n").write(
            toFile: badList, atomically: true, encoding: .utf8)
        let (badStatus, _, badErr) = try fixture.runCommand([
            "enqueue", "--config", fixture.configPath, "--urls-from", badList,
        ])
        #expect(badStatus == 65)
        #expect(badErr.contains("line 1000"), "\(badErr)")
        #expect(fixture.counts().values.reduce(0, +) == 0)

        let list = fixture.directory + "/list.txt"
        try ("# a thousand\n" + lines.joined(separator: "\n") + "\n").write(
            toFile: list, atomically: true, encoding: .utf8)
        let (status, out, err) = try fixture.runCommand([
            "enqueue", "--config", fixture.configPath, "--urls-from", list,
        ])
        #expect(status == 0, "\(err)")
        #expect(out.contains("1000 URLs queued"), "\(out)")
        let created = Set(try fixture.jobs().map(\.createdAt))
        #expect(created.count == 1, "one transaction stamps every row with its one time")
        try fixture.start()
        #expect(fixture.waitForFinished(count: 1000, seconds: 240))
        #expect(fixture.counts()[.done] == 1000)
        let log = fixture.emulator.requestLog()
        #expect(!log.contains { $0.status == 429 }, "the daemon kept to its budget")
        #expect(log.count <= 1100)
        fixture.stop()
    }
}
