import Foundation
import ImagedropStore
import ImagedropSystem
import ImagedropTestSupport
import ImagesEmulator
import Testing

/// `imagedrop reconcile` against the emulator with the real binary: images deleted behind imagedrop's back are
/// found and uploaded again (and only they), a lost database is rebuilt from the account and the drop folder
/// without a single upload, stale variants are refreshed, and the exit codes say which of these happened.
@Suite("Reconcile the ledger with the account", .serialized)
struct ReconcileTests {
    /// 20 files uploaded by `run --once`; the fixture and the jobs by path.
    static func uploadedTwenty(extraConfig: String = "") throws -> DaemonFixture {
        let fixture = try DaemonFixture(extraConfig: extraConfig)
        for index in 0..<20 { try fixture.drop("r\(index).png", seed: UInt64(7_100 + index)) }
        let (status, _, error) = try fixture.runCommand(["run", "--once", "-q", "--config", fixture.configPath])
        guard status == 0, fixture.counts()[.done] == 20 else {
            throw FixtureError("run --once: \(status) \(error) \(fixture.counts())")
        }
        return fixture
    }

    static func reconcile(_ fixture: DaemonFixture, _ extra: [String] = []) throws -> (Int32, String, String) {
        try fixture.runCommand(["reconcile", "--page-size", "10", "--config", fixture.configPath] + extra)
    }

    static func posts(_ fixture: DaemonFixture) -> Int {
        fixture.emulator.requestLog().filter { $0.method == "POST" && $0.path.hasSuffix("/images/v1") }.count
    }

    static func lists(_ fixture: DaemonFixture) -> Int {
        fixture.emulator.requestLog().filter { $0.method == "GET" && $0.path.hasSuffix("/images/v2") }.count
    }

    static func deleteBehindItsBack(_ fixture: DaemonFixture, _ id: String) throws {
        let encoded = id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? id
        let reply = try HTTPEndpointTests.curl(
            fixture.emulator.baseURL + "/__emulator/images/" + encoded, method: "DELETE")
        guard reply.status == 200 else { throw FixtureError("admin delete \(id): \(reply.status) \(reply.body)") }
    }

    @Test(
        "3 of 20 images deleted behind its back: reconcile exits 1 naming them; --fix and run --once upload exactly those 3; then it exits 0"
    )
    func missingImagesAreUploadedAgain() throws {
        let fixture = try Self.uploadedTwenty()
        let deleted = try fixture.jobs().prefix(3)
        for job in deleted { try Self.deleteBehindItsBack(fixture, try #require(job.imageID)) }

        let listsBefore = Self.lists(fixture)
        let (status, out, error) = try Self.reconcile(fixture)
        #expect(status == 1, "\(out) \(error)")
        #expect(out.contains("17 images in the account, 20 done jobs: 3 missing, 0 unrecorded, 0 stale"), "\(out)")
        for job in deleted { #expect(out.contains("missing: job \(job.id) \(job.path.display)"), "\(out)") }
        #expect(Self.lists(fixture) - listsBefore == 2, "17 images at 10 a page: two list requests")

        let (fixed, fixedOut, fixedError) = try Self.reconcile(fixture, ["--fix"])
        #expect(fixed == 0, "\(fixedOut) \(fixedError)")
        #expect(fixedOut.contains("fixed: 3 queued again, 0 recorded, 0 refreshed; 0 left"), "\(fixedOut)")
        #expect(fixture.counts()[.queued] == 3)

        let postsBefore = Self.posts(fixture)
        let (ran, _, ranError) = try fixture.runCommand(["run", "--once", "-q", "--config", fixture.configPath])
        #expect(ran == 0, "\(ranError)")
        #expect(Self.posts(fixture) - postsBefore == 3, "exactly the three missing images are uploaded again")
        #expect(fixture.counts()[.done] == 20)

        let (after, afterOut, _) = try Self.reconcile(fixture)
        #expect(after == 0, "\(afterOut)")
        #expect(
            afterOut.contains("20 images in the account, 20 done jobs: 0 missing, 0 unrecorded, 0 stale"), "\(afterOut)"
        )
    }

    @Test(
        "the database deleted: reconcile --fix rebuilds 20 done rows with the stored ids and variants, and run --once then uploads nothing",
        arguments: [false, true])
    func lostDatabaseIsRebuiltWithoutUploads(signedURLs: Bool) throws {
        let fixture = try Self.uploadedTwenty(extraConfig: signedURLs ? "[images]\nrequire_signed_urls = true\n" : "")
        let before = Dictionary(uniqueKeysWithValues: try fixture.jobs().map { ($0.path.display, $0) })
        #expect(
            before.values.allSatisfy { $0.imageID?.count == (signedURLs ? 36 : 64) },
            "signed URLs: Cloudflare's UUIDs; else content-hash ids")
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: fixture.database + suffix) }

        let (report, reportOut, _) = try Self.reconcile(fixture)
        #expect(
            report == 1
                && reportOut.contains("20 images in the account, 0 done jobs: 0 missing, 20 unrecorded, 0 stale"),
            "\(reportOut)")
        let (status, out, error) = try Self.reconcile(fixture, ["--fix"])
        #expect(status == 0, "\(out) \(error)")
        #expect(out.contains("fixed: 0 queued again, 20 recorded, 0 refreshed; 0 left"), "\(out)")

        let rebuilt = try fixture.jobs()
        #expect(rebuilt.count == 20 && rebuilt.allSatisfy { $0.state == .done })
        for job in rebuilt {
            let original = try #require(before[job.path.display])
            #expect(
                job.imageID == original.imageID && job.variants.sorted() == original.variants.sorted()
                    && job.sha256 == original.sha256 && job.size == original.size, "\(job.path)")
            if signedURLs { #expect(job.jobKey == original.jobKey, "the image's imagedrop_job is the job key again") }
        }

        let postsBefore = Self.posts(fixture)
        let (ran, _, ranError) = try fixture.runCommand(["run", "--once", "-q", "--config", fixture.configPath])
        #expect(ran == 0, "\(ranError)")
        #expect(Self.posts(fixture) == postsBefore, "a rebuilt ledger uploads nothing")
        #expect(try fixture.jobs().count == 20, "the rescan found every file known")
        let (after, afterOut, _) = try Self.reconcile(fixture)
        #expect(after == 0, "\(afterOut)")
    }

    @Test("--json: one object with images, done_jobs, the three arrays and fixed; stale variants found and refreshed")
    func jsonShapeAndStaleVariants() throws {
        let fixture = try Self.uploadedTwenty()
        let jobs = try fixture.jobs()
        try Self.deleteBehindItsBack(fixture, try #require(jobs[0].imageID))
        let database = try Database(path: fixture.database)
        try database.execute("UPDATE jobs SET variants = '[\"https://example.invalid/old\"]' WHERE id = \(jobs[1].id)")
        database.close()

        let (status, out, error) = try Self.reconcile(fixture, ["--json"])
        #expect(status == 1, "\(error)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], "\(out)")
        #expect(Set(object.keys) == ["images", "done_jobs", "missing", "unrecorded", "stale", "fixed"])
        #expect(object["images"] as? Int == 19 && object["done_jobs"] as? Int == 20)
        let missing = try #require(object["missing"] as? [[String: Any]])
        #expect(
            missing.count == 1 && missing[0]["job_id"] as? Int == Int(jobs[0].id)
                && missing[0]["image_id"] as? String == jobs[0].imageID
                && missing[0]["path"] as? String == jobs[0].path.display
                && missing[0]["source"] as? String == "default" && missing[0]["sha256"] as? String == jobs[0].sha256)
        #expect((object["unrecorded"] as? [Any])?.isEmpty == true)
        let stale = try #require(object["stale"] as? [[String: Any]])
        #expect(
            stale.count == 1 && stale[0]["job_id"] as? Int == Int(jobs[1].id)
                && stale[0]["variants"] as? [String] == ["https://example.invalid/old"]
                && (stale[0]["account_variants"] as? [String])?.sorted() == jobs[1].variants.sorted())
        let fixed = try #require(object["fixed"] as? [String: Int])
        #expect(fixed == ["queued": 0, "recorded": 0, "refreshed": 0, "left": 2])

        let (fixedStatus, fixedOut, _) = try Self.reconcile(fixture, ["--json", "--fix"])
        #expect(fixedStatus == 0, "\(fixedOut)")
        let fixedObject = try #require(try JSONSerialization.jsonObject(with: Data(fixedOut.utf8)) as? [String: Any])
        #expect(fixedObject["fixed"] as? [String: Int] == ["queued": 1, "recorded": 0, "refreshed": 1, "left": 0])
        #expect(try fixture.store().job(id: jobs[1].id)?.variants.sorted() == jobs[1].variants.sorted())
    }

    @Test(
        "exit codes: 69 for a refused token and for an API that does not answer, 78 for a broken config, 65 for an unknown --source"
    )
    func exitCodes() throws {
        var emulator = EmulatorConfiguration()
        emulator.tokens = [DaemonFixture.sharedToken]
        let fixture = try DaemonFixture(emulator: emulator)
        let (refused, _, refusedError) = try fixture.runCommand(
            ["reconcile", "--config", fixture.configPath],
            environment: ["CLOUDFLARE_API_TOKEN": "not-the-right-token-0123"])
        #expect(refused == 69, "\(refusedError)")
        #expect(refusedError.contains("refused"), "\(refusedError)")

        let (unknown, _, unknownError) = try fixture.runCommand([
            "reconcile", "--source", "nope", "--config", fixture.configPath,
        ])
        #expect(unknown == 65, "\(unknownError)")

        let port = try LoopbackPort.free()
        try String(contentsOfFile: fixture.configPath, encoding: .utf8)
            .replacingOccurrences(of: fixture.emulator.apiBaseURL, with: "http://127.0.0.1:\(port)/client/v4")
            .replacingOccurrences(of: "backoff_max_ms = 2000", with: "backoff_max_ms = 100")
            .write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        let (unreachable, _, unreachableError) = try fixture.runCommand(["reconcile", "--config", fixture.configPath])
        #expect(unreachable == 69, "\(unreachableError)")

        try "[cloudflare]\naccount_id = 12\n".write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        let (broken, _, brokenError) = try fixture.runCommand(["reconcile", "--config", fixture.configPath])
        #expect(broken == 78, "\(brokenError)")
    }

    @Test("cloudflare.batch_api: the pages are read from the batch host with a batch token, none from the API")
    func pagesThroughBatchTokens() throws {
        let fixture = try Self.uploadedTwenty()
        let text = try String(contentsOfFile: fixture.configPath, encoding: .utf8).replacingOccurrences(
            of: "api_base_url = \"\(fixture.emulator.apiBaseURL)\"",
            with:
                "api_base_url = \"\(fixture.emulator.apiBaseURL)\"\nbatch_api = true\nbatch_base_url = \"\(fixture.emulator.baseURL)\""
        )
        try text.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        let before = fixture.emulator.requestLog().count
        let (status, out, error) = try Self.reconcile(fixture)
        #expect(status == 0, "\(out) \(error)")
        #expect(out.contains("20 images in the account, 20 done jobs: 0 missing, 0 unrecorded, 0 stale"), "\(out)")
        let log = fixture.emulator.requestLog().dropFirst(before)
        #expect(log.filter { $0.path.hasPrefix("/images/v2") }.count == 2, "\(log.map(\.path))")
        #expect(log.filter { $0.path.hasSuffix("/images/v1/batch_token") }.count == 1)
        #expect(!log.contains { $0.path.contains("/accounts/") && $0.path.hasSuffix("/images/v2") })
    }

    @Test(
        "beside a running daemon: --fix queues the missing images and the daemon uploads exactly those, with no false differences"
    )
    func besideARunningDaemon() throws {
        let fixture = try Self.uploadedTwenty()
        try fixture.start()
        let deleted = try fixture.jobs().suffix(2)
        for job in deleted { try Self.deleteBehindItsBack(fixture, try #require(job.imageID)) }
        let postsBefore = Self.posts(fixture)
        let (status, out, error) = try Self.reconcile(fixture, ["--fix"])
        #expect(status == 0, "\(out) \(error)")
        #expect(out.contains("18 images in the account, 20 done jobs: 2 missing, 0 unrecorded, 0 stale"), "\(out)")
        #expect(
            fixture.waitUntil(seconds: 20) { Self.posts(fixture) - postsBefore == 2 && fixture.counts()[.done] == 20 })
        let (after, afterOut, _) = try Self.reconcile(fixture)
        #expect(after == 0, "\(afterOut)")
        #expect(Self.posts(fixture) - postsBefore == 2, "nothing else was sent")
        #expect(fixture.stop() == 0)
    }

    @Test("on a terminal a progress line names the pages, the images listed and their rate; the report stays on stdout")
    func progressOnTerminal() throws {
        let fixture = try Self.uploadedTwenty()
        let terminal = try PseudoTerminal()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DaemonFixture.binary("imagedrop"))
        process.arguments = ["reconcile", "--page-size", "10", "--config", fixture.configPath]
        process.environment = fixture.environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = terminal.slaveHandle
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let screen = terminal.finish()
        #expect(process.terminationStatus == 0)
        #expect(
            screen.contains("reconcile: 1 page, 10 images listed, ")
                && screen.contains("reconcile: 2 pages, 20 images listed, ")
                && screen.contains(" images/s"), "\(screen)")
        #expect(
            String(decoding: outData, as: UTF8.self)
                == "20 images in the account, 20 done jobs: 0 missing, 0 unrecorded, 0 stale\n")
    }
}
