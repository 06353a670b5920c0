import ImagedropParsing
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import Logging
import Metrics
import Synchronization

/// Custom-id images a host of the fleet has stored, kept in Redis so that another host holding the same bytes
/// records its job `done` without a request — not even the 409 and GET a content-hash id would cost it.
///
/// One hash per image, `<key_prefix>:image:<account_id>:<image id>` → `sha256`, `variants` (their count) and
/// `v0`…`vN` (the variant URLs), written by the host that stored (or confirmed) it and expiring after
/// `ttlSeconds`: the same content reaching several hosts mostly does so within hours, and a key gone costs only
/// the usual 409 and GET. About 0.5 KB of Redis memory per image stored in the last week (a million a week:
/// ~500 MB). An entry is used only when its `sha256` is the file's, so a path id whose file changed, or a
/// damaged entry, falls back to the request path.
///
/// Redis unreachable or slower than its 250 ms deadline: nothing is shared and nothing waits — the upload goes
/// the usual way, and Redis is asked again a second later. Cloudflare-chosen ids (signed URLs) are not known
/// before the upload, so they cannot be shared.
package final class FleetContentIndex: Sendable {
    package static let ttlSeconds = 7 * 86_400
    /// More would be a damaged entry: Cloudflare accounts have at most 100 variants.
    package static let maxVariants = 100

    private struct State {
        var connection: RedisConnection?
        var retryAt: UInt64 = 0
        var failing = false
    }

    private let state = Mutex(State())
    private let endpoint: RedisEndpoint
    private let keyPrefix: String
    private let logger: Logger
    private let shared: Metrics.Counter

    package init(
        endpoint: RedisEndpoint, keyPrefix: String, accountID: String, registry: MetricsRegistry, logger: Logger
    ) {
        self.endpoint = endpoint
        self.keyPrefix = "\(keyPrefix):image:\(accountID):"
        self.logger = logger
        shared = registry.counter(
            "imagedrop_fleet_shared_total",
            help: "Jobs recorded done from an image another host of the fleet stored, without a request.")
    }

    package convenience init(_ fleet: Config.Fleet, accountID: String, registry: MetricsRegistry, logger: Logger) {
        self.init(
            endpoint: fleet.redis, keyPrefix: fleet.keyPrefix, accountID: accountID, registry: registry, logger: logger)
    }

    package func key(_ id: String) -> String { keyPrefix + id }

    /// The image the fleet recorded under `id`, when it holds the bytes whose SHA-256 is `sha256`; nil when
    /// none is recorded, it is another content, or Redis cannot answer now.
    package func stored(id: String, sha256: String) -> ImageRecord? {
        guard let reply = run([["HGETALL", key(id)]])?.first, let items = reply.array, items.count % 2 == 0 else {
            return nil
        }
        var fields: [String: String] = [:]
        for index in stride(from: 0, to: items.count, by: 2) {
            guard let name = items[index].text, let value = items[index + 1].text else { return nil }
            fields[name] = value
        }
        guard fields["sha256"] == sha256, let count = fields["variants"].flatMap({ Int($0) }),
            (1...Self.maxVariants).contains(count)
        else { return nil }
        var variants: [String] = []
        for index in 0..<count {
            guard let url = fields["v\(index)"], Self.isVariantURL(url) else { return nil }
            variants.append(url)
        }
        return ImageRecord(id: id, variants: variants, metaSHA256: sha256)
    }

    /// Records that `id` holds `sha256`'s bytes with these variants, for the other hosts (a week at most).
    package func publish(id: String, sha256: String, variants: [String]) {
        guard !variants.isEmpty, variants.count <= Self.maxVariants, variants.allSatisfy(Self.isVariantURL) else {
            return
        }
        let key = key(id)
        var fields = ["HSET", key, "sha256", sha256, "variants", String(variants.count)]
        for (index, url) in variants.enumerated() { fields += ["v\(index)", url] }
        // One transaction: no host reads an entry whose variants are half replaced or that never expires.
        _ = run([["MULTI"], ["DEL", key], fields, ["EXPIRE", key, String(Self.ttlSeconds)], ["EXEC"]])
    }

    /// A job recorded done from the fleet's entry (`imagedrop_fleet_shared_total`).
    package func noteShared() { shared.increment() }

    private static func isVariantURL(_ text: String) -> Bool {
        (text.hasPrefix("https://") || text.hasPrefix("http://")) && text.utf8.count <= 2048
            && !text.unicodeScalars.contains { $0.value <= 0x20 || $0.value == 0x7F }
    }

    /// The replies, or nil when Redis could not be used (then not asked again for a second: a Redis that is down
    /// costs one 250 ms deadline a second, not one per upload).
    private func run(_ commands: [[String]]) -> [RedisReply]? {
        state.withLock { state in
            let now = Timestamp.monotonicNanos()
            guard now >= state.retryAt else { return nil }
            do throws(RedisError) {
                let connection: RedisConnection
                if let existing = state.connection {
                    connection = existing
                } else {
                    connection = try RedisConnection(endpoint)
                    state.connection = connection
                }
                var replies: [RedisReply] = []
                for command in commands { replies.append(try connection.checked(command)) }
                if state.failing {
                    state.failing = false
                    logger.notice("fleet: shared images readable again at \(endpoint)")
                }
                return replies
            } catch {
                state.connection = nil
                state.retryAt = now &+ 1_000_000_000
                if !state.failing {
                    state.failing = true
                    logger.warning("fleet: shared images unavailable (\(error.message)); uploads go the usual way")
                }
                return nil
            }
        }
    }
}
