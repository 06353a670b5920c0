import Glibc
import ImagedropSupport
import ImagedropSystem
import ImagedropTestSupport
import Logging
import Testing

@testable import ImagedropPipeline

/// The fleet's index of stored custom-id images against a real redis-server: what one host publishes another
/// reads back only for the same bytes; a damaged entry or a Redis that is gone reads as "not shared".
@Suite("Fleet content index", .serialized)
struct FleetContentIndexTests {
    static let sha = String(repeating: "ab", count: 32)
    static let variants = ["https://imagedelivery.net/h/id-1/public", "https://imagedelivery.net/h/id-1/thumbnail"]

    static func index(_ server: RedisServer) -> FleetContentIndex {
        FleetContentIndex(
            endpoint: RedisEndpoint(address: .unix(path: server.socketPath)), keyPrefix: "unit",
            accountID: "acct", registry: MetricsRegistry(), logger: Logger(label: "test"))
    }

    @Test(
        "published by one host, read by another for the same sha256 only; a week's TTL; a damaged entry is not shared")
    func publishAndRead() throws {
        let server = try RedisServer()
        defer { server.stop() }
        let first = Self.index(server)
        let second = Self.index(server)
        #expect(second.stored(id: "id-1", sha256: Self.sha) == nil, "nothing published yet")
        first.publish(id: "id-1", sha256: Self.sha, variants: Self.variants)
        let image = try #require(second.stored(id: "id-1", sha256: Self.sha))
        #expect(image.id == "id-1" && image.variants == Self.variants && image.metaSHA256 == Self.sha)
        #expect(
            second.stored(id: "id-1", sha256: String(repeating: "cd", count: 32)) == nil, "other bytes: not this image")

        let admin = try RedisConnection(RedisEndpoint(address: .unix(path: server.socketPath)))
        let ttl = try admin.checked(["TTL", "unit:image:acct:id-1"]).integer ?? -1
        #expect(ttl > 0 && ttl <= Int64(FleetContentIndex.ttlSeconds))
        _ = try admin.checked(["HSET", "unit:image:acct:id-1", "v1", "not a url"])
        #expect(second.stored(id: "id-1", sha256: Self.sha) == nil, "a damaged variant: the usual path")
        _ = try admin.checked(["HSET", "unit:image:acct:id-1", "v1", Self.variants[1], "variants", "5"])
        #expect(second.stored(id: "id-1", sha256: Self.sha) == nil, "fewer variants than it says")
        first.publish(id: "id-1", sha256: Self.sha, variants: [Self.variants[0]])
        #expect(
            second.stored(id: "id-1", sha256: Self.sha)?.variants == [Self.variants[0]], "republished whole, not merged"
        )
    }

    @Test("Redis gone: lookups answer nil at once and publishing is dropped; Redis back: shared again")
    func redisDown() throws {
        let server = try RedisServer()
        defer { server.stop() }
        let index = Self.index(server)
        index.publish(id: "id-2", sha256: Self.sha, variants: Self.variants)
        server.kill()
        #expect(index.stored(id: "id-2", sha256: Self.sha) == nil)
        index.publish(id: "id-3", sha256: Self.sha, variants: Self.variants)
        try server.restart()
        usleep(1_100_000)  // past the second the index waits before asking a failed Redis again
        index.publish(id: "id-4", sha256: Self.sha, variants: Self.variants)
        #expect(index.stored(id: "id-4", sha256: Self.sha)?.variants == Self.variants)
    }
}
