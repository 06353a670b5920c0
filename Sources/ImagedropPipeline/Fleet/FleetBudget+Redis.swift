import ImagedropSupport
import ImagedropSystem
import Logging

extension FleetBudget {
    /// Calls one of the fleet's functions, connecting (and loading the library) first when there is no connection.
    /// A missing function (Redis restarted empty, `FUNCTION FLUSH`) is loaded again and the call retried once.
    func call(_ state: inout State, function: String, keys: [String], args: [String]) throws(RedisError) -> RedisReply {
        let connection = try connected(&state)
        let command = ["FCALL", function, String(keys.count)] + keys + args
        do {
            return try connection.checked(command)
        } catch  where error.isMissingFunction {
            try Self.load(connection)
            return try connection.checked(command)
        } catch {
            if error.breaksConnection { state.connection = nil }
            throw error
        }
    }

    func connected(_ state: inout State) throws(RedisError) -> RedisConnection {
        if let connection = state.connection { return connection }
        let connection = try RedisConnection(endpoint)
        try Self.load(connection)
        state.connection = connection
        return connection
    }

    /// The wait after a rejoin for the others' hand-over: their heartbeat's 1 s retry, its 250 ms call, margin.
    static let handOverNanos: UInt64 = 2_000_000_000

    static func load(_ connection: RedisConnection) throws(RedisError) {
        _ = try connection.checked(["FUNCTION", "LOAD", "REPLACE", FleetFunctions.source])
    }

    /// Redis failed: go on alone at the safe share, keeping any block known, and ask Redis again in a second.
    func degrade(_ state: inout State, _ error: RedisError, now: UInt64) {
        state.connection = nil
        state.retryRedisAt = now &+ 1_000_000_000
        let reason = error.code == .reply ? "redis refused: \(error.message)" : "redis unreachable: \(error.message)"
        if let degraded = state.degraded {
            state.degraded = (reason, degraded.fallback)
            return
        }
        let share = Self.share(limit: state.limit, hosts: state.hostsAlive)
        let fallback: RateLimiter
        if let unused = state.fallbackSinceRejoin {
            // Back in the fleet without one grant from Redis since (connect and load worked, the grant did not):
            // the share it had counts everything this host sent, and a fresh one, starting as a window spent,
            // would hold every request again at each 3 s round of rejoin, hand-over wait and failure.
            fallback = unused
        } else {
            fallback = RateLimiter(limit: share, windowSeconds: state.windowSeconds)
            fallback.assumeWindowSpent(now: now)
        }
        state.fallbackSinceRejoin = nil
        if state.blockedUntil > now { fallback.block(forMillis: Int64((state.blockedUntil - now) / 1_000_000) + 1) }
        state.degraded = (reason, fallback)
        state.degradedSince = now
        let windowSeconds = Int(state.windowSeconds)
        let hosts = state.hostsAlive
        logger.warning(
            "fleet: degraded (\(reason)); sending alone at \(share) requests per \(windowSeconds) s (80% of the budget over \(hosts) host(s) alive)"
        )
    }

    /// Redis answers again. A 429 this host saw while alone blocked only itself (the others asked Redis, which never
    /// heard of it): the block's remainder goes to Redis first, or the host stays alone until it can be told.
    func rejoin(_ state: inout State) {
        guard state.degraded != nil else { return }
        let now = Timestamp.monotonicNanos()
        if state.blockedUntil > now {
            let millis = (state.blockedUntil - now + 999_999) / 1_000_000
            do throws(RedisError) {
                _ = try call(&state, function: FleetFunctions.block, keys: [keys.block], args: [String(millis)])
            } catch {
                degrade(&state, error, now: now)
                return
            }
        }
        state.fallbackSinceRejoin = state.degraded?.fallback
        state.degraded = nil
        state.degradedNanos &+= now &- min(state.degradedSince, now)
        // Another host may have learnt a 429's block while Redis was away too, and hands it over only when it
        // reconnects: its heartbeat tries every second while it holds one. A grant asked sooner could land in
        // that block (soak check 6b, seeds 2718 and 90817: requests 0.3–0.8 s after Redis came back).
        state.rejoinedQuietUntil = max(state.rejoinedQuietUntil, now &+ Self.handOverNanos)
        logger.notice("fleet: redis answers again at \(endpoint); sharing the fleet's budget")
    }
}
