import Foundation
import Glibc
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import ImagedropTestSupport
import Testing

/// Finding jobs and the reasons for missing ones, from the command line.
@Suite("Finding things", .serialized)
struct FindingThingsTests {
    @Test("show PATH without a job says why: excluded by which pattern, not a candidate, outside, missing")
    func showSaysWhy() throws {
        let fixture = try DaemonFixture()
        _ = try JobStore.openForWriting(path: fixture.database)
        try writeFile(atPath: fixture.inbox + "/upload.tmp", contents: Data("x".utf8))
        try writeFile(atPath: fixture.inbox + "/notes.txt", contents: Data("x".utf8))
        try writeFile(atPath: fixture.directory + "/elsewhere.png", contents: Data("x".utf8))
        let cases = [
            (fixture.inbox + "/upload.tmp", "its name is excluded by the pattern \"*.tmp\" (watch.exclude)"),
            (fixture.inbox + "/notes.txt", "its name is not a candidate: it matches none of watch.include"),
            (fixture.directory + "/elsewhere.png", "it is outside every watched folder"),
            (fixture.inbox + "/missing.png", "it does not exist"),
        ]
        for (path, reason) in cases {
            let (status, _, error) = try fixture.runCommand(["show", "-c", fixture.configPath, path])
            #expect(status == 65)
            #expect(error.contains("no job for path \(path): \(reason)"), "\(error)")
        }
    }

    @Test("status says 'and N more' past ten failures; list filters by state, since and limit; retry takes a path")
    func listAndMore() throws {
        let fixture = try DaemonFixture(settleMillis: 0)
        for index in 0..<12 { try fixture.drop("bad-\(index).jpg", bytes: Array("text \(index)".utf8)) }
        try fixture.drop("good.png", seed: 1801)
        let (ran, _, runError) = try fixture.runCommand(["run", "--once", "-c", fixture.configPath])
        #expect(ran == 23, "\(runError)")

        let (_, text, _) = try fixture.runCommand(["status", "-c", fixture.configPath])
        #expect(text.contains("  … and 2 more (imagedrop list --state failed)"), "\(text)")

        let (listed, lines, listError) = try fixture.runCommand([
            "list", "-c", fixture.configPath, "--state", "failed", "--since", "1h", "--json",
        ])
        #expect(listed == 0, "\(listError)")
        let objects = try lines.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(
            objects.count == 12
                && objects.allSatisfy {
                    $0["state"] as? String == "failed"
                        && ($0["last_error"] as? String)?.contains("not an image") == true
                })
        let (_, limited, _) = try fixture.runCommand(["list", "-c", fixture.configPath, "--limit", "1"])
        #expect(limited.split(separator: "\n").count == 1 && limited.contains("\tdone\t"), "newest first: \(limited)")
        let (badSince, _, sinceError) = try fixture.runCommand(["list", "-c", fixture.configPath, "--since", "soon"])
        #expect(badSince == 64 && sinceError.contains("--since"), "\(sinceError)")

        let path = fixture.inbox + "/bad-3.jpg"
        let (retried, out, retryError) = try fixture.runCommand(["retry", "-c", fixture.configPath, path])
        #expect(retried == 0, "\(retryError)")
        #expect(out.contains("queued again"), "\(out)")
        #expect(try fixture.store().latestJob(path: RawPath(path))?.state == .queued)
    }
}

extension FindingThingsTests {
    @Test(
        "status shows a wait for the request budget in the daemon's words; the log names signals and the start line the API and config"
    )
    func visibleBudgetWait() throws {
        let fixture = try DaemonFixture(settleMillis: 0)
        try fixture.writeConfig(
            settleMillis: 0,
            uploadSection: """
                workers = 2
                requests_per_5min = 2
                rate_window_s = 120
                shutdown_grace_s = 2
                """)
        for index in 0..<4 { try fixture.drop("f\(index).png", seed: UInt64(1900 + index)) }
        try fixture.start()
        var text = ""
        let waiting = fixture.waitUntil(seconds: 30) {
            text = (try? fixture.runCommand(["status", "-c", fixture.configPath]))?.1 ?? ""
            return text.contains(
                "waiting for budget: 2 requests in the last 120 s (upload.requests_per_5min = 2), next slot in ")
        }
        #expect(waiting, "\(text)")
        #expect(text.contains("now:      "), "\(text)")
        #expect(fixture.stop() == 0)
        #expect(
            fixture.log.contains("msg=\"stopping on SIGTERM") && fixture.log.contains("signal=SIGTERM"),
            "\(fixture.log)")
        #expect(
            fixture.log.contains("api=\(fixture.emulator.apiBaseURL)")
                && fixture.log.contains("config=\(fixture.configPath)"),
            "\(fixture.log)")
    }
}

extension FindingThingsTests {
    @Test("export --latest keeps the newest version of each path; --state failed carries last_error and path_raw_hex")
    func exportStateAndLatest() throws {
        let fixture = try DaemonFixture(settleMillis: 0)
        try fixture.drop("a.png", seed: 2001)
        try fixture.drop("bad.jpg", bytes: Array("text".utf8))
        #expect(try fixture.runCommand(["run", "--once", "-c", fixture.configPath]).0 == 23)
        try fixture.drop("a.png", seed: 2002)  // a new version of the same path, after the first was uploaded
        #expect(try fixture.runCommand(["run", "--once", "-c", fixture.configPath]).0 == 0)

        func rows(_ arguments: [String]) throws -> [[String: Any]] {
            let (status, out, error) = try fixture.runCommand(
                ["export", "-c", fixture.configPath, "--format", "ndjson"] + arguments)
            #expect(status == 0, "\(error)")
            return try out.split(separator: "\n").map {
                try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            }
        }
        let all = try rows([])
        #expect(all.count == 2, "both versions of a.png are done: \(all)")
        let latest = try rows(["--latest"])
        #expect(
            latest.count == 1 && (latest.first?["id"] as? Int) == all.compactMap { $0["id"] as? Int }.max(), "\(latest)"
        )
        let failed = try rows(["--state", "failed"])
        #expect(failed.count == 1)
        #expect((failed.first?["last_error"] as? String)?.contains("not an image") == true, "\(failed)")
        #expect(failed.first?["path_raw_hex"] is NSNull)
        let (conflict, _, _) = try fixture.runCommand(["export", "-c", fixture.configPath, "--all", "--state", "done"])
        #expect(conflict == 64)
    }
}

extension FindingThingsTests {
    @Test(
        "retry --force queues a done job again: with content-hash ids the API's 409 and a GET settle it, no second image"
    )
    func retryForce() throws {
        let fixture = try DaemonFixture(settleMillis: 0)
        let path = try fixture.drop("a.png", seed: 2101)
        #expect(try fixture.runCommand(["run", "--once", "-c", fixture.configPath]).0 == 0)
        let (plain, _, plainError) = try fixture.runCommand(["retry", "-c", fixture.configPath, path])
        #expect(
            plain == 0 && plainError.contains("is done, not failed (--force uploads a done job again)"), "\(plainError)"
        )
        let (forced, out, error) = try fixture.runCommand(["retry", "--force", "-c", fixture.configPath, path])
        #expect(forced == 0 && out.contains("queued again"), "\(out) \(error)")
        let (ran, summary, runError) = try fixture.runCommand(["run", "--once", "-c", fixture.configPath])
        #expect(ran == 0, "\(runError)")
        #expect(
            ExitCodeTests.summary(summary).hasPrefix("0 uploaded, 1 already stored, 0 failed, 0 left"), "\(summary)")
        #expect(fixture.emulator.storedImages().count == 1)
        #expect(try fixture.store().latestJob(path: RawPath(path))?.state == .done)
    }
}
