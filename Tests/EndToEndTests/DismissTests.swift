import Foundation
import ImagedropDaemon
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import ImagedropTestSupport
import Testing

/// `dismiss`, `list --all`, `prune --failed` and the dry runs that must count what the real runs do, with the
/// real binary on a table the real daemon wrote.
@Suite("Dismiss, prune --failed and dry runs", .serialized)
struct DismissTests {
    /// Writes files that are not images (each ends `failed`, "not an image") and runs `run --once` over them.
    @discardableResult
    static func failOnce(_ fixture: DaemonFixture, _ names: [String], folder: String? = nil) throws -> [String] {
        let paths = names.map { (folder ?? fixture.inbox) + "/" + $0 }
        for path in paths { try writeFile(atPath: path, contents: Data("not an image: \(path)".utf8)) }
        let (status, _, error) = try fixture.runCommand(["run", "--once", "--config", fixture.configPath])
        #expect(status == 23, "run --once with failures: \(error)")
        return paths
    }

    static func command(_ fixture: DaemonFixture, _ arguments: [String]) throws -> (Int32, String, String) {
        try fixture.runCommand([arguments[0], "--config", fixture.configPath] + arguments.dropFirst())
    }

    static func statusJSON(_ fixture: DaemonFixture) throws -> [String: Any] {
        let (status, output, error) = try command(fixture, ["status", "--json"])
        try #require(status == 0, "\(error)")
        return try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
    }

    static func job(_ fixture: DaemonFixture, path: String) throws -> Job {
        try #require(try fixture.store().latestJob(path: RawPath(path)))
    }

    /// The job ids of `job N …` lines.
    static func ids(_ output: String) -> [Int64] {
        output.split(separator: "\n").compactMap { line in
            line.hasPrefix("job ") ? Int64(line.dropFirst(4).prefix { $0.isNumber }) : nil
        }
    }

    @Test(
        "dismissed jobs leave the failed count of status, the page's failure list and /metrics; list --state failed --all still lists them"
    )
    func outOfEveryCount() throws {
        let fixture = try DaemonFixture(
            extraConfig: """
                [http]
                listen = "127.0.0.1:0"
                """)
        try fixture.start()
        try fixture.drop("fine.png", seed: 7)
        for name in ["bad1.jpg", "bad2.jpg", "bad3.jpg"] {
            try fixture.drop(name, bytes: Array("not an image \(name)".utf8))
        }
        #expect(fixture.waitForFinished(count: 4))
        let bad1 = try Self.job(fixture, path: fixture.inbox + "/bad1.jpg")
        let bad3 = try Self.job(fixture, path: fixture.inbox + "/bad3.jpg")

        // While the daemon runs: one by id, one by path.
        let (dismissed, output, error) = try Self.command(
            fixture, ["dismiss", "\(bad1.id)", fixture.inbox + "/bad2.jpg"])
        #expect(dismissed == 0, "\(error)")
        #expect(
            output.hasSuffix("2 dismissed\n") && output.contains("job \(bad1.id) dismissed: \(bad1.path.display): "),
            "\(output)")

        let status = try Self.statusJSON(fixture)
        #expect((status["jobs"] as? [String: Int])?["failed"] == 1)
        #expect((status["jobs"] as? [String: Int])?["done"] == 1)
        #expect(status["dismissed"] as? Int == 2)
        #expect((status["recent_failures"] as? [[String: Any]])?.compactMap { $0["id"] as? Int64 } == [bad3.id])
        let (_, text, _) = try Self.command(fixture, ["status"])
        #expect(
            text.contains("0 retrying, 1 done, 1 failed (2 total)")
                && text.contains("dismissed: 2 failed jobs acknowledged"), "\(text)")

        let base = "http://" + (try HTTPEndpointTests.address(fixture))
        let metrics = try HTTPEndpointTests.curl(base + "/metrics").body
        #expect(metrics.contains("imagedrop_jobs{state=\"failed\"} 1.0"), "\(metrics)")
        #expect(metrics.contains("imagedrop_source_jobs{source=\"default\",state=\"failed\"} 1.0"))
        let page = try HTTPEndpointTests.curl(base + "/").body
        #expect(page.contains("data-state=\"failed\">failed <b>1</b>"))
        let onPage = { (name: String) in page.contains(StatusPage.wrappedPath(fixture.inbox + "/" + name)) }
        #expect(onPage("bad3.jpg") && !onPage("bad1.jpg") && !onPage("bad2.jpg"))

        let (_, plain, _) = try Self.command(fixture, ["list", "--state", "failed"])
        #expect(plain.split(separator: "\n").count == 1 && plain.contains("bad3.jpg"), "\(plain)")
        let (_, all, _) = try Self.command(fixture, ["list", "--state", "failed", "--all"])
        #expect(all.split(separator: "\n").count == 3, "\(all)")
        #expect(all.split(separator: "\n").filter { $0.hasSuffix("[dismissed]") }.count == 2)
        let (_, shown, _) = try Self.command(fixture, ["show", "\(bad1.id)", "--json"])
        #expect(shown.contains("\"dismissed\" : true") || shown.contains("\"dismissed\":true"), "\(shown)")
        #expect(fixture.stop() == 0)
    }

    @Test(
        "by id, path or --all-failed; the dry run lists exactly what the real run dismisses; an unknown id or path exits 65 and dismisses nothing"
    )
    func targetsAndDryRun() throws {
        let fixture = try DaemonFixture()
        try fixture.drop("fine.png", seed: 8)
        try Self.failOnce(fixture, ["a.jpg", "b.jpg", "c.jpg"])
        let done = try #require(try fixture.jobs().first { $0.state == .done })

        let (unknown, _, unknownError) = try Self.command(fixture, ["dismiss", "999", "\(done.id)"])
        #expect(
            unknown == 65 && unknownError.contains("no job with id 999") && unknownError.contains("nothing dismissed"))
        let (noPath, _, noPathError) = try Self.command(fixture, ["dismiss", fixture.inbox + "/never.jpg"])
        #expect(noPath == 65 && noPathError.contains(fixture.inbox + "/never.jpg"))
        #expect(fixture.counts()[.failed] == 3)
        let (notFailed, notFailedOutput, notFailedError) = try Self.command(fixture, ["dismiss", "\(done.id)"])
        #expect(notFailed == 0 && notFailedOutput == "0 dismissed\n" && notFailedError.contains("is done, not failed"))
        #expect(try Self.command(fixture, ["dismiss"]).0 == 64)
        #expect(try Self.command(fixture, ["dismiss", "1", "--all-failed"]).0 == 64)

        let (dryStatus, dry, _) = try Self.command(fixture, ["dismiss", "--all-failed", "--dry-run"])
        #expect(dryStatus == 0 && dry.hasSuffix("3 would be dismissed (dry run)\n"), "\(dry)")
        #expect(fixture.counts()[.failed] == 3, "the dry run changed nothing")
        let (realStatus, real, _) = try Self.command(fixture, ["dismiss", "--all-failed"])
        #expect(realStatus == 0 && real.hasSuffix("3 dismissed\n"), "\(real)")
        #expect(Self.ids(dry) == Self.ids(real) && Self.ids(real).count == 3)
        #expect(fixture.counts()[.failed] == 0)
        #expect(try Self.command(fixture, ["dismiss", "--all-failed"]).1 == "0 dismissed\n")
    }

    @Test(
        "after dismiss and a retry of a dismissed job (which fails again), status equals a GROUP BY of the table, per source too"
    )
    func countsEqualTheTable() throws {
        let fixture = try DaemonFixture()
        let avatars = fixture.directory + "/avatars"
        try FileManager.default.createDirectory(atPath: avatars, withIntermediateDirectories: true)
        try fixture.writeConfig(settleMillis: 100, extra: "[[source]]\nname = \"avatars\"\npaths = [\"\(avatars)\"]\n")
        try fixture.drop("fine.png", seed: 9)
        try Self.failOnce(fixture, ["x.jpg", "y.jpg"])
        let avatarPaths = try Self.failOnce(fixture, ["p.jpg", "q.jpg"], folder: avatars)
        #expect(try Self.command(fixture, ["dismiss", "--all-failed"]).1.hasSuffix("4 dismissed\n"))
        let x = try Self.job(fixture, path: fixture.inbox + "/x.jpg")
        let (retried, retriedOutput, _) = try Self.command(fixture, ["retry", "\(x.id)"])
        #expect(
            retried == 0 && retriedOutput.contains("job \(x.id) queued again (no longer dismissed)"), "\(retriedOutput)"
        )
        #expect(try Self.job(fixture, path: x.path.display).dismissed == false)
        let (again, _, _) = try fixture.runCommand(["run", "--once", "--config", fixture.configPath])
        #expect(again == 23, "x.jpg fails again")
        _ = try Self.command(fixture, ["retry", avatarPaths[0]])  // queued again, and left queued

        let status = try Self.statusJSON(fixture)
        let table = try Self.groupBy(fixture)
        print("status jobs \(status["jobs"] ?? ""), table \(table.states)")
        #expect(status["jobs"] as? [String: Int] == table.states)
        #expect(status["dismissed"] as? Int == table.dismissed && table.dismissed == 2)
        #expect(table.states["failed"] == 1 && table.states["queued"] == 1)
        let sources = try #require(status["sources"] as? [String: [String: Int]])
        #expect(sources == table.sources, "\(sources) vs \(table.sources)")
    }

    /// `SELECT … GROUP BY` on the table, dismissed failures apart: the truth `status` must tell.
    static func groupBy(
        _ fixture: DaemonFixture
    ) throws -> (states: [String: Int], sources: [String: [String: Int]], dismissed: Int) {
        try fixture.store().withDatabase { db in
            var states = Dictionary(uniqueKeysWithValues: JobState.allCases.map { ($0.rawValue, 0) })
            var sources: [String: [String: Int]] = [:]
            let rows = try db.prepare(
                """
                SELECT source, state, count(*) FROM jobs WHERE NOT (state = 'failed' AND dismissed = 1) GROUP BY source, state
                """)
            while try rows.step() {
                let source = rows.string(0) ?? ""
                let state = rows.string(1) ?? ""
                states[state, default: 0] += rows.int(2)
                sources[source, default: Dictionary(uniqueKeysWithValues: JobState.allCases.map { ($0.rawValue, 0) })][
                    state] = rows.int(2)
            }
            states["total"] = states.values.reduce(0, +)
            for (name, counts) in sources { sources[name]?["total"] = counts.values.reduce(0, +) }
            let dismissed = try db.prepare("SELECT count(*) FROM jobs WHERE state = 'failed' AND dismissed = 1")
            return (states, sources, try dismissed.step() ? dismissed.int(0) : 0)
        }
    }

    @Test(
        "prune --failed deletes failed jobs older than --older-than-days, dismissed or not; its dry run counts what it deletes"
    )
    func pruneFailed() throws {
        let fixture = try DaemonFixture()
        try fixture.drop("fine.png", seed: 10)
        try Self.failOnce(fixture, ["old.jpg", "new.jpg"])
        let old = try Self.job(fixture, path: fixture.inbox + "/old.jpg")
        #expect(try Self.command(fixture, ["dismiss", "\(old.id)"]).0 == 0)
        // Ten days since old.jpg failed.
        let database = try Database(path: fixture.database)
        try database.execute(
            "UPDATE jobs SET updated_at = '\(Timestamp.iso8601(millis: Timestamp.nowMillis() - 10 * 86_400_000))' WHERE id = \(old.id)"
        )
        database.close()

        let (dryStatus, dry, _) = try Self.command(
            fixture, ["prune", "--failed", "--older-than-days", "5", "--dry-run"])
        #expect(dryStatus == 0 && dry.hasPrefix("would remove 1 failed jobs unchanged since before "), "\(dry)")
        let (realStatus, real, _) = try Self.command(fixture, ["prune", "--failed", "--older-than-days", "5"])
        #expect(realStatus == 0 && real.hasPrefix("1 failed jobs unchanged since before "), "\(real)")
        #expect(try fixture.store().job(id: old.id) == nil)
        #expect(fixture.counts()[.failed] == 1 && fixture.counts()[.done] == 1, "new.jpg and the done job stay")
        let (_, all, _) = try Self.command(fixture, ["prune", "--failed", "--older-than-days", "0", "--dry-run"])
        #expect(all.hasPrefix("would remove 1 failed jobs"), "\(all)")
        #expect(
            try Self.command(fixture, ["prune", "--older-than-days", "0"]).1.hasPrefix("1 done jobs"),
            "plain prune: done jobs")
    }

    @Test(
        "retry --all-failed --dry-run counts what retry --all-failed queues: superseded, gone and dismissed jobs left out"
    )
    func retryDryRunAgrees() throws {
        let fixture = try DaemonFixture()
        try Self.failOnce(fixture, ["gone.jpg", "rewritten.jpg", "kept.jpg", "dismissed.jpg"])
        let rewrittenOld = try Self.job(fixture, path: fixture.inbox + "/rewritten.jpg")
        try FileManager.default.removeItem(atPath: fixture.inbox + "/gone.jpg")
        #expect(try Self.command(fixture, ["dismiss", fixture.inbox + "/dismissed.jpg"]).0 == 0)
        // A new version of rewritten.jpg (longer, so another size): a new job, which fails too.
        try writeFile(atPath: fixture.inbox + "/rewritten.jpg", contents: Data("still not an image, but longer".utf8))
        let (second, _, _) = try fixture.runCommand(["run", "--once", "--config", fixture.configPath])
        #expect(second == 23)
        #expect(fixture.counts()[.failed] == 4, "gone, the old and the new rewritten, kept")

        let (perID, _, perIDError) = try Self.command(fixture, ["retry", "\(rewrittenOld.id)", "--dry-run"])
        #expect(perID == 0 && perIDError.contains("a newer job of \(rewrittenOld.path.display)"), "\(perIDError)")
        let (dryStatus, dry, _) = try Self.command(fixture, ["retry", "--all-failed", "--dry-run"])
        #expect(fixture.counts()[.failed] == 4, "the dry run changed nothing")
        let (realStatus, real, _) = try Self.command(fixture, ["retry", "--all-failed"])
        print("dry run: \(dry)real run: \(real)")
        #expect(dryStatus == 0 && realStatus == 0)
        let left = "; left as they are: 1 superseded by a newer job of the same file, 1 whose file is no longer there"
        #expect(dry.hasPrefix("would queue 2 failed jobs again" + left) && dry.hasSuffix(" (dry run)\n"), "\(dry)")
        #expect(real.hasPrefix("2 failed jobs queued again" + left), "\(real)")
        #expect(fixture.counts()[.queued] == 2)
    }

    @Test("enqueue --dry-run counts what enqueue queues: known files, paths named twice and waiting URLs left out")
    func enqueueDryRunAgrees() throws {
        let fixture = try DaemonFixture()
        let backlog = fixture.directory + "/backlog"
        try FileManager.default.createDirectory(atPath: backlog, withIntermediateDirectories: true)
        for name in ["a.png", "b.png"] {
            try writeFile(atPath: backlog + "/" + name, contents: Data("bytes of \(name)".utf8))
        }
        #expect(try Self.command(fixture, ["enqueue", backlog]).1.hasSuffix("2 queued, 0 already known\n"))
        try writeFile(atPath: backlog + "/c.png", contents: Data("bytes of c".utf8))
        let (dryStatus, dry, _) = try Self.command(fixture, ["enqueue", "--dry-run", backlog, backlog + "/c.png"])
        #expect(
            dryStatus == 0 && dry == "would queue \(backlog)/c.png\nwould queue 1, 3 already known (dry run)\n",
            "\(dry)")
        let (_, real, _) = try Self.command(fixture, ["enqueue", backlog, backlog + "/c.png"])
        #expect(real.hasSuffix("1 queued, 3 already known\n"), "\(real)")

        let first = "https://example.com/1.png"
        let second = "https://example.com/2.png"
        #expect(try Self.command(fixture, ["enqueue", "--url", first]).1 == "1 URLs queued, 0 already waiting\n")
        let (_, dryURLs, _) = try Self.command(fixture, ["enqueue", "--dry-run", "--url", first, second, second])
        #expect(dryURLs == "would queue 1 URLs, 2 already waiting (dry run)\n", "\(dryURLs)")
        let (_, realURLs, _) = try Self.command(fixture, ["enqueue", "--url", first, second, second])
        #expect(realURLs == "1 URLs queued, 2 already waiting\n", "\(realURLs)")
    }
}
