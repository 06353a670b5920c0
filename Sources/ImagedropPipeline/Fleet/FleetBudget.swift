import Glibc
import ImagedropParsing
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import Logging
import Synchronization

/// The fleet's request budget: every request that counts against the global limit takes its grant from one GCRA
/// kept in Redis (FleetFunctions), so the hosts together stay within `requests_per_5min` per `rate_window_s`.
/// A 429 blocks every host (a block key with the Retry-After as its TTL); `fleet pause` holds every grant.
///
/// Redis unreachable, refusing or slower than 250 ms: the host goes on alone at a safe share of the budget,
/// `limit × 0.8 / hosts alive in the last 5 minutes` (the count Redis last gave, at least 1), through a local
/// RateLimiter, honouring the block it knew; it tries Redis again every second and rejoins when it answers.
///
/// Redis calls run on the calling worker's thread, one at a time on one connection behind the mutex: each lasts
/// at most the 250 ms deadline, and the daemon's main loop and watcher never call in.
package final class FleetBudget: RequestBudget {
    struct State {
        var connection: RedisConnection?
        var parameters: Parameters
        var limit: Int
        var windowSeconds: Double
        /// Monotonic time before which a request is known to wait (the last refusal's answer, or a block).
        var waitUntil: UInt64 = 0
        var blockedUntil: UInt64 = 0
        /// Back from going alone: no grant asked before this (`handOverNanos`).
        var rejoinedQuietUntil: UInt64 = 0
        /// The share used while alone, kept from a rejoin until Redis makes a grant: should Redis fail again first,
        /// the host goes on with it (it counts all that was sent) instead of a fresh share starting spent.
        var fallbackSinceRejoin: RateLimiter?
        var pausedReason: String?
        var hostsAlive = 1
        /// Set while Redis cannot be used: why, and the local share that replaces it.
        var degraded: (reason: String, fallback: RateLimiter)?
        var retryRedisAt: UInt64 = 0
        /// For `imagedrop_fleet_*`: refusals by why (0 budget, 1 blocked, 2 paused, 3 capped), time spent degraded.
        var waits: [Int: UInt64] = [:]
        var degradedSince: UInt64 = 0
        var degradedNanos: UInt64 = 0
        /// The fleet as the last heartbeat read it, for the status page and the metrics.
        var view: FleetView?
    }

    let state: Mutex<State>
    /// Grants Redis made to this host (`imagedrop_fleet_grants_total`).
    let grants = Atomic<UInt64>(0)
    package let endpoint: RedisEndpoint
    package let keys: FleetKeys
    package let host: String
    let logger: Logger

    package init(
        endpoint: RedisEndpoint, keys: FleetKeys, host: String, limit: Int, windowSeconds: Double, logger: Logger
    ) {
        self.endpoint = endpoint
        self.keys = keys
        self.host = host
        self.logger = logger
        state = Mutex(
            State(
                parameters: Parameters(limit: limit, windowSeconds: windowSeconds), limit: limit,
                windowSeconds: windowSeconds))
    }

    /// The daemon's and `check`'s fleet budget: hosts using the same credential share one, never seeing it.
    package convenience init(_ fleet: Config.Fleet, config: Config, token: APIToken?, logger: Logger) {
        let credential = token.map { ($0.email ?? "") + "\u{0}" + $0.secret } ?? ""
        self.init(
            endpoint: fleet.redis,
            keys: FleetKeys(prefix: fleet.keyPrefix, accountID: config.cloudflare.accountID, credential: credential),
            host: fleet.host, limit: config.upload.requestsPer5Min,
            windowSeconds: Double(config.upload.rateWindowSeconds), logger: logger)
    }

    /// Why the host goes on alone, for `status`; nil while it shares Redis's budget.
    package var degradedReason: String? { state.withLock { $0.degraded?.reason } }
    /// The operator's fleet-wide pause as the last grant saw it.
    package var pausedReason: String? { state.withLock { $0.pausedReason } }
    package var hostsAlive: Int { state.withLock { $0.hostsAlive } }
    /// A 429's block known here and, the host being alone, perhaps not in Redis.
    package var holdsUnsharedBlock: Bool {
        let now = Timestamp.monotonicNanos()
        return state.withLock { $0.degraded != nil && $0.blockedUntil > now }
    }

    package func acquireTicket(shouldStop: () -> Bool) -> BudgetTicket? {
        var askAt: UInt64 = 0
        while true {
            if shouldStop() { return nil }
            let now = Timestamp.monotonicNanos()
            if now >= askAt {
                let (wait, ticket) = tryGrant(now: now)
                if wait == 0, let ticket { return ticket }
                askAt = now &+ wait
            }
            // In slices, so a stopping daemon is not held by a long wait and Redis is asked once per wait.
            let slice = min(askAt &- min(askAt, Timestamp.monotonicNanos()), 50_000_000)
            var request = timespec(tv_sec: 0, tv_nsec: Int(max(slice, 1_000_000)))
            nanosleep(&request, nil)
        }
    }

    /// 0: granted; otherwise how long to wait before asking again.
    package func tryAcquire(now: UInt64) -> UInt64 { tryGrant(now: now).wait }

    /// `tryAcquire` with the grant's ticket: numbered by Redis, or by the fallback while degraded.
    package func tryGrant(now: UInt64) -> (wait: UInt64, ticket: BudgetTicket?) {
        state.withLock { state in
            if let degraded = state.degraded, now < state.retryRedisAt {
                return Self.local(degraded.fallback.tryGrant(now: now))
            }
            // Back from going alone: reconnect and hand over any block learnt meanwhile (`rejoin`) before asking
            // for a grant — never with the grant itself, which would be made before the hand-over.
            if state.degraded != nil {
                do throws(RedisError) {
                    _ = try connected(&state)
                    rejoin(&state)
                } catch {
                    degrade(&state, error, now: now)
                }
                if let degraded = state.degraded, state.blockedUntil <= now {
                    return Self.local(degraded.fallback.tryGrant(now: now))
                }
            }
            // A block this host knows needs no grant asked for.
            if state.blockedUntil > now { return (state.blockedUntil - now, nil) }
            if state.rejoinedQuietUntil > now { return (state.rejoinedQuietUntil - now, nil) }
            do throws(RedisError) {
                let reply = try call(
                    &state, function: FleetFunctions.grant,
                    keys: [keys.budget, keys.block, keys.pause, keys.hosts, keys.sequence, keys.caps],
                    args: [
                        String(state.parameters.burst), String(state.parameters.intervalMicros), host,
                        // Granted before: a Redis found without the fleet's grant number has lost its data.
                        grants.load(ordering: .relaxed) > 0 ? "1" : "0",
                    ])
                rejoin(&state)
                guard let items = reply.array, items.count >= 6, let granted = items[0].integer,
                    let waitMillis = items[1].integer, let why = items[2].integer, let alive = items[3].integer,
                    let sequence = items[5].integer
                else {
                    throw RedisError(code: .protocol, message: "unexpected reply from \(FleetFunctions.grant)")
                }
                state.hostsAlive = max(Int(alive), 1)
                state.pausedReason = why == 2 ? (items[4].text ?? "") : nil
                state.fallbackSinceRejoin = nil
                if granted == 1 {
                    grants.add(1, ordering: .relaxed)
                    return (0, BudgetTicket(sequence: UInt64(max(sequence, 0)), shared: true))
                }
                state.waits[Int(why), default: 0] += 1
                let wait = UInt64(max(waitMillis, 1)) * 1_000_000
                if why == 1 { state.blockedUntil = max(state.blockedUntil, now &+ wait) }
                state.waitUntil = now &+ wait
                return (wait, nil)
            } catch {
                degrade(&state, error, now: now)
                return Self.local(state.degraded!.fallback.tryGrant(now: now))
            }
        }
    }

    private static func local(_ result: (wait: UInt64, sequence: UInt64)) -> (wait: UInt64, ticket: BudgetTicket?) {
        (result.wait, result.wait == 0 ? BudgetTicket(sequence: result.sequence, shared: false) : nil)
    }

    /// A `Ratelimit` header: a grant of the fleet's sequence caps every host's next grants through Redis; one of
    /// the fallback's (granted while degraded) caps this host's own. Redis failing here: the fallback takes it,
    /// counting from now.
    package func obey(_ header: RateLimitHeader, answering ticket: BudgetTicket) {
        let now = Timestamp.monotonicNanos()
        state.withLock { state in
            guard ticket.shared else {
                state.degraded?.fallback.obey(header, answering: ticket, now: now)
                return
            }
            if state.degraded == nil || now >= state.retryRedisAt {
                do throws(RedisError) {
                    let last = ticket.sequence &+ UInt64(header.remaining)
                    _ = try call(
                        &state, function: FleetFunctions.cap, keys: [keys.caps],
                        args: [String(last), String(max(header.resetSeconds, 0) * 1000)])
                    rejoin(&state)
                    return
                } catch {
                    degrade(&state, error, now: now)
                }
            }
            state.degraded?.fallback.obey(header, answering: ticket, now: now)
        }
    }

    package func block(forMillis millis: Int64) {
        let millis = max(millis, 0)
        let now = Timestamp.monotonicNanos()
        state.withLock { state in
            let until = now &+ UInt64(millis) * 1_000_000
            state.blockedUntil = max(state.blockedUntil, until)
            state.waitUntil = max(state.waitUntil, until)
            state.degraded?.fallback.block(forMillis: millis)
            guard state.degraded == nil || now >= state.retryRedisAt else { return }
            do throws(RedisError) {
                _ = try call(&state, function: FleetFunctions.block, keys: [keys.block], args: [String(max(millis, 1))])
                rejoin(&state)
            } catch {
                degrade(&state, error, now: now)
            }
        }
    }

    package func waitMillis(requests: Int) -> Int64 {
        let now = Timestamp.monotonicNanos()
        return state.withLock { state in
            if let degraded = state.degraded { return degraded.fallback.waitMillis(requests: requests, now: now) }
            return state.waitUntil > now ? Int64((state.waitUntil - now + 999_999) / 1_000_000) : 0
        }
    }

    package func currentWait() -> BudgetWait? {
        let now = Timestamp.monotonicNanos()
        return state.withLock { state in
            if let degraded = state.degraded { return degraded.fallback.currentWait(now: now) }
            guard state.waitUntil > now else { return nil }
            return BudgetWait(
                used: state.limit, limit: state.limit, windowSeconds: Int(state.windowSeconds),
                nextMillis: Int64((state.waitUntil - now + 999_999) / 1_000_000),
                blockedByServer: state.blockedUntil > now)
        }
    }

    /// The fleet's rate shared by the hosts alive: this host's part of the backlog's pace.
    package func headroom() -> BacklogETA.Budget? {
        let now = Timestamp.monotonicNanos()
        return state.withLock { state in
            if let degraded = state.degraded { return degraded.fallback.headroom(now: now) }
            guard state.limit > 0, state.windowSeconds > 0 else { return nil }
            return BacklogETA.Budget(
                free: state.waitUntil > now ? 0 : 1,
                perSecond: Double(state.limit) / state.windowSeconds / Double(max(state.hostsAlive, 1)))
        }
    }

    /// Alone (degraded), this host's own share; in the fleet the count lives in Redis's GCRA, which a grant does
    /// not report, so no figure rather than a guess (`imagedrop fleet status` shows the fleet).
    package func remaining() -> Int? {
        let now = Timestamp.monotonicNanos()
        return state.withLock { state in state.degraded?.fallback.remaining(now: now) }
    }

    /// Nothing is reserved ahead in Redis (each grant is taken as it is used), so nothing goes back.
    package func returnUnusedReservation() {}

    package func update(limit: Int, windowSeconds: Double) {
        state.withLock { state in
            state.limit = limit
            state.windowSeconds = windowSeconds
            state.parameters = Parameters(limit: limit, windowSeconds: windowSeconds)
            state.degraded?.fallback.update(
                limit: Self.share(limit: limit, hosts: state.hostsAlive), windowSeconds: windowSeconds)
        }
    }

    /// What one host may send alone: 80% of the budget split between the hosts last seen alive, at least 1.
    /// The 20% left is room for what the others already sent in the window before they lost Redis too.
    package static func share(limit: Int, hosts: Int) -> Int {
        guard limit > 0 else { return 0 }
        return max(limit * 8 / 10 / max(hosts, 1), 1)
    }
}
