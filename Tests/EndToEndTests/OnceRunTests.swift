import Foundation
import ImagedropParsing
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import ImagedropTestSupport
import ImagesEmulator
import Testing

/// `run --once` as a one-off from a shell or cron: `--dry-run`, `--include`/`--exclude`, and its progress in a log.
@Suite("run --once options", .serialized)
struct OnceRunTests {
    static func run(_ fixture: DaemonFixture, _ arguments: [String]) throws -> (Int32, String, String) {
        try fixture.runCommand(["run", "--once", "--config", fixture.configPath] + arguments)
    }

    @Test(
        "--dry-run lists path, size and custom id of each upload (and what would fail), sends nothing, writes nothing; the real run then sends those ids"
    )
    func dryRun() throws {
        let fixture = try DaemonFixture()
        try fixture.drop("already.png", seed: 60)
        #expect(try Self.run(fixture, []).0 == 0)
        var images: [String: [UInt8]] = [:]
        for (index, name) in ["b.png", "c.png", "queued.png"].enumerated() {
            images[name] = SampleImages.png(width: 8 + index, height: 8, seed: UInt64(61 + index))
            try fixture.drop(name, bytes: images[name])
        }
        // One already in the table, queued by a backfill: listed as its job, not as a new file.
        #expect(
            try fixture.runCommand(["enqueue", "--config", fixture.configPath, fixture.inbox + "/queued.png"]).0 == 0)
        let queued = try #require(try fixture.store().latestJob(path: RawPath(fixture.inbox + "/queued.png")))
        try fixture.drop("bad.jpg", bytes: Array("not an image".utf8))
        try fixture.drop(
            "list.urls", bytes: Array("https://example.com/1.png\n# a comment\nhttps://example.com/2.png\n".utf8))
        let requestsBefore = fixture.emulator.requestLog().count
        let jobsBefore = try fixture.jobs()

        let (status, output, error) = try Self.run(fixture, ["--dry-run"])
        #expect(status == 0, "\(error)")
        print(output)
        #expect(fixture.emulator.requestLog().count == requestsBefore, "the dry run sent nothing")
        #expect(try fixture.jobs() == jobsBefore, "the dry run wrote nothing")
        for (name, bytes) in images {
            let origin = name == "queued.png" ? "job \(queued.id)" : "new"
            let line =
                "would upload \(fixture.inbox)/\(name) (\(bytes.count) bytes, \(origin)) as \(SHA256Hasher.hex(of: bytes))"
            #expect(output.contains(line + "\n"), "\(line)")
        }
        #expect(output.contains("would fail \(fixture.inbox)/bad.jpg (new): not an image"))
        #expect(output.contains("would queue 2 URLs from \(fixture.inbox)/list.urls (new)"))
        #expect(!output.contains("already.png"), "done already: not uploaded again")
        let total = images.values.map(\.count).reduce(0, +)
        #expect(
            output.hasSuffix(
                "3 would be uploaded (\(HumanUnits.bytes(total))), 2 URLs queued, 1 would fail, 0 left for later; nothing sent (dry run)\n"
            ))

        try FileManager.default.removeItem(atPath: fixture.inbox + "/list.urls")
        let before = Set(fixture.emulator.storedImages().map(\.id))
        #expect(try Self.run(fixture, []).0 == 23, "bad.jpg fails")
        let sent = Set(fixture.emulator.storedImages().map(\.id)).subtracting(before)
        #expect(sent == Set(images.values.map { SHA256Hasher.hex(of: $0) }), "the ids listed are the ids sent")
    }

    @Test("--dry-run lists a queued URL job with the id its URL would get, and sends nothing")
    func dryRunURLJob() throws {
        let fixture = try DaemonFixture()
        let url = "https://images.example.com/x.png"
        #expect(try fixture.runCommand(["enqueue", "--config", fixture.configPath, "--url", url]).0 == 0)
        let job = try #require(try fixture.jobs().first)
        let (status, output, _) = try Self.run(fixture, ["--dry-run"])
        #expect(status == 0)
        #expect(
            output.contains(
                "would upload \(url) (fetched by Cloudflare, job \(job.id)) as \(try URLInput(url).sha256)\n"),
            "\(output)")
        #expect(
            output.hasSuffix(
                "1 would be uploaded (0 B), 0 URLs queued, 0 would fail, 0 left for later; nothing sent (dry run)\n"))
        #expect(fixture.emulator.requestLog().isEmpty)
    }

    @Test("--include/--exclude replace the config's patterns for one run; the next run has the config's again")
    func patternOverride() throws {
        let fixture = try DaemonFixture()
        for (index, name) in ["a.png", "b.webp", "c.gif", "skip-me.png"].enumerated() {
            try fixture.drop(name, seed: UInt64(70 + index))
        }
        #expect(
            try fixture.runCommand(["run", "--config", fixture.configPath, "--include", "*.png"]).0 == 64,
            "only with --once")
        #expect(
            try fixture.runCommand(["run", "--config", fixture.configPath, "--dry-run"]).0 == 64, "only with --once")
        let (_, dry, _) = try Self.run(fixture, ["--dry-run", "--include", "*.gif"])
        #expect(dry.contains("/c.gif ") && !dry.contains("/a.png ") && dry.hasPrefix("would upload"), "\(dry)")

        let (status, _, error) = try Self.run(
            fixture, ["--include", "*.png", "--include", "*.webp", "--exclude", "skip-*"])
        #expect(status == 0, "\(error)")
        let names = {
            try Set(
                fixture.jobs().filter { $0.state == .done }.map { String(decoding: $0.path.baseName, as: UTF8.self) })
        }
        #expect(try names() == ["a.png", "b.webp"])
        #expect(try Self.run(fixture, []).0 == 0)
        #expect(try names() == ["a.png", "b.webp", "c.gif", "skip-me.png"], "the config's patterns again")
    }

    @Test("off a terminal, run --once logs its progress line every 10 s")
    func progressLogged() throws {
        var emulator = EmulatorConfiguration()
        emulator.faults.latencyMs = 4_500
        let fixture = try DaemonFixture(emulator: emulator)
        try fixture.writeConfig(settleMillis: 100, uploadSection: "workers = 1\nrequest_timeout_s = 30")
        for index in 0..<5 { try fixture.drop("slow\(index).png", seed: UInt64(80 + index)) }
        let started = Date()
        let (status, _, error) = try Self.run(fixture, [])
        let seconds = Date().timeIntervalSince(started)
        #expect(status == 0, "\(error)")
        let lines = error.split(separator: "\n").filter { $0.contains("progress") }
        print("run --once took \(Int(seconds)) s and logged:\n" + lines.joined(separator: "\n"))
        #expect(seconds > 20)
        #expect(
            lines.count >= Int(seconds / 10) - 1 && lines.count <= Int(seconds / 10) + 1,
            "\(lines.count) lines in \(seconds) s")
        #expect(lines.allSatisfy { $0.contains("queued") && $0.contains("done") })
    }
}
