import Glibc
import ImagedropParsing
import ImagedropStore
import ImagedropSupport
import ImagedropSystem

/// What `imagedrop fleet status|pause|resume` do, on one short-lived connection of their own.
package struct FleetControl {
    package let fleet: Config.Fleet
    package let accountID: String
    private let redis: RedisConnection

    /// Throws when Redis cannot be reached or refuses the login (the commands' exit 69).
    package init(fleet: Config.Fleet, accountID: String) throws(RedisError) {
        self.fleet = fleet
        self.accountID = accountID
        // A person waits on these: a second to connect, not the workers' 250 ms.
        redis = try RedisConnection(fleet.redis, connectTimeoutMillis: 1000, commandTimeoutMillis: 1000)
    }

    private var pauseKey: String { "\(fleet.keyPrefix):pause" }

    /// Every host's next grant waits until `resume`; kept in Redis, so it outlives any host's restart.
    package func pause(reason: String?) throws(RedisError) {
        _ = try redis.checked(["SET", pauseKey, reason ?? "fleet paused by operator"])
    }

    /// Whether there was a pause to lift.
    package func resume() throws(RedisError) -> Bool {
        try redis.checked(["DEL", pauseKey]).integer == 1
    }

    /// `fleet status --json`'s object: the budget, the block, the pause and every host seen in the last 24 h.
    package func status(budgetRequests: Int, windowSeconds: Int) throws(RedisError) -> [String: Any] {
        guard let nowText = try redis.checked(["TIME"]).array?.first?.text, let now = Int64(nowText) else {
            throw RedisError(code: .protocol, message: "unexpected reply to TIME")
        }
        let names =
            try redis.checked(["ZRANGEBYSCORE", "\(fleet.keyPrefix):hosts", String(now - 86_400), "+inf"]).array ?? []
        var hosts: [[String: Any]] = []
        for name in names.compactMap(\.text) {
            let beat = try redis.checked(["GET", "\(fleet.keyPrefix):host:\(name)"]).text
            hosts.append(FleetView.Host(name: name, beat: beat, now: now).json)
        }
        let blocked = try blockedMillis()
        let paused = try redis.checked(["GET", pauseKey]).text
        return [
            "fleet": [
                "budget": ["requests": budgetRequests, "window_s": windowSeconds],
                "blocked_until": blocked > 0 ? Timestamp.iso8601(millis: now * 1000 + blocked) : JSONNull(),
                "paused": paused as Any? ?? JSONNull(),
                "hosts": hosts.sorted { ($0["host"] as? String ?? "") < ($1["host"] as? String ?? "") },
            ] as [String: Any]
        ]
    }

    /// The longest block on this account (one block key per credential: the command holds no credential, so it
    /// looks at all of the account's).
    private func blockedMillis() throws(RedisError) -> Int64 {
        var cursor = "0"
        var longest: Int64 = 0
        repeat {
            let reply = try redis.checked([
                "SCAN", cursor, "MATCH", "\(fleet.keyPrefix):block:\(accountID):*", "COUNT", "100",
            ])
            guard let parts = reply.array, parts.count == 2, let next = parts[0].text else { break }
            cursor = next
            for key in parts[1].array?.compactMap(\.text) ?? [] {
                longest = max(longest, try redis.checked(["PTTL", key]).integer ?? 0)
            }
        } while cursor != "0"
        return longest
    }
}
