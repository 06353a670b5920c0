import Foundation
import ImagedropStore
import ImagedropTestSupport
import ImagesEmulator
import Testing

/// DESIGN, "Fleet": a content another host of the fleet has already stored (same custom id) is recorded `done`
/// without a request. Two real daemons with their own folders and databases, one emulator, a real redis-server.
@Suite("Fleet: a content stored by another host", .serialized)
struct FleetSharedContentTests {
    static func configure(_ host: DaemonFixture, redis: RedisServer, name: String) throws {
        try host.writeConfig(
            settleMillis: 0,
            extra: """
                [fleet]
                redis = "unix:\(redis.socketPath)"
                host = "\(name)"
                key_prefix = "share"

                [metrics]
                textfile = "\(host.directory)/imagedrop.prom"
                interval_s = 1
                """)
    }

    static func redisCLI(_ redis: RedisServer, _ arguments: [String]) throws -> String {
        let (status, out, error) = try DaemonFixture.run(
            "/usr/bin/redis-cli", ["-s", redis.socketPath] + arguments,
            environment: ProcessInfo.processInfo.environment)
        guard status == 0 else { throw FixtureError("redis-cli \(arguments): \(error)") }
        return out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test(
        "the same bytes dropped on a second host after the first stored them: 1 upload and 0 GET in all, the second row done with the same id and variants; Redis down: the usual 409 and GET"
    )
    func secondHostSendsNothing() throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        let first = try DaemonFixture(settleMillis: 0)
        let second = try DaemonFixture(sharingEmulatorOf: first, settleMillis: 0)
        try Self.configure(first, redis: redis, name: "host-a")
        try Self.configure(second, redis: redis, name: "host-b")
        try first.start()
        try second.start()

        let bytes = SampleImages.png(width: 16, height: 16, seed: 23_001)
        try first.drop("studio/cat.png", bytes: bytes)
        #expect(first.waitForFinished(count: 1))
        let stored = try #require(try first.jobs().first)
        let id = try #require(stored.imageID)
        #expect(stored.state == .done)
        // Published for the others, and not for ever.
        let key = "share:image:\(first.accountID):\(id)"
        #expect(try Self.redisCLI(redis, ["HGET", key, "sha256"]) == stored.sha256)
        let ttl = Int(try Self.redisCLI(redis, ["TTL", key])) ?? -1
        #expect(ttl > 6 * 86_400 && ttl <= 7 * 86_400, "a week at most: \(ttl)")

        try second.drop("gateway/copy-of-cat.png", bytes: bytes)
        #expect(second.waitForFinished(count: 1))
        let copy = try #require(try second.jobs().first)
        #expect(copy.state == .done && copy.imageID == id && copy.attempts == 0, "\(copy)")
        #expect(copy.variants.sorted() == stored.variants.sorted() && !copy.variants.isEmpty)
        let log = first.emulator.requestLog()
        #expect(
            log.filter { $0.method == "POST" }.count == 1,
            "one upload for both hosts: \(log.map { "\($0.method) \($0.path)" })")
        #expect(
            !log.contains { $0.method == "GET" && $0.path.contains("/images/v1/") && !$0.path.hasSuffix("/stats") },
            "no GET of the image either")
        let metricsPath = second.directory + "/imagedrop.prom"
        #expect(
            second.waitUntil(seconds: 10) {
                ((try? String(contentsOfFile: metricsPath, encoding: .utf8)) ?? "").contains(
                    "imagedrop_fleet_shared_total 1")
            }, "\((try? String(contentsOfFile: metricsPath, encoding: .utf8)) ?? "no textfile")")

        // Redis gone: nothing is shared and nothing waits — the second host settles the same bytes the usual
        // way (a 409 on the content-hash id, then a GET).
        redis.kill()
        try second.drop("gateway/again/cat.png", bytes: bytes)
        #expect(second.waitForFinished(count: 2, seconds: 60))
        let again = try second.jobs().first { $0.path.display.hasSuffix("again/cat.png") }
        #expect(again?.state == .done && again?.imageID == id, "\(String(describing: again))")
        let after = first.emulator.requestLog()
        #expect(after.filter { $0.method == "POST" && $0.status == 409 }.count == 1, "the 409 of the usual path")
        #expect(
            after.contains { $0.method == "GET" && $0.path.contains("/images/v1/") && !$0.path.hasSuffix("/stats") })
        #expect(first.stop() == 0)
        #expect(second.stop() == 0)
    }
}
