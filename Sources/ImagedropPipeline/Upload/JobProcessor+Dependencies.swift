import ImagedropStore
import ImagedropSystem
import Logging
import Synchronization

extension JobProcessor {
    /// What a processor reads, and nothing else: the daemon makes each of these once and hands them to the pool,
    /// which gives each worker's processor the same ones. All members are thread-safe.
    package struct Dependencies: Sendable {
        package var store: JobStore
        package var config: SharedConfig
        /// The account's request budget (this host's or the fleet's): built outside, by `ConfiguredBudget`.
        package var budget: any RequestBudget
        package var concurrency: ConcurrencyLimiter
        package var pause: PauseGate
        package var shutdown: ShutdownState
        package var tokens: TokenProvider
        package var metrics: PipelineMetrics
        package var batchTokens: BatchTokens
        package var workSignal: WorkSignal
        package var inFlight: InFlightJobs
        /// The writer that records `done` without the worker waiting for it (see `JobProcessor.finish`); its
        /// thread runs while the pool does.
        package var writeBehind: WriteBehind
        /// Failures on the path to the API, pool-wide: pauses the queue for an outage (see APIPathMonitor).
        package var pathMonitor: APIPathMonitor
        /// Files the watcher saw written to and not yet closed: pre-flight leaves them to their close event.
        package var openWrites: OpenWrites
        /// When to read the account's image stats (at start, then every 1,000 uploads).
        package var quotaWatch: QuotaWatch
        package var logger: Logger
        /// With `[fleet]`: custom-id images another host stored, recorded done here without a request.
        package var fleetContent: FleetContentIndex?

        package init(
            store: JobStore, config: SharedConfig, budget: any RequestBudget, concurrency: ConcurrencyLimiter,
            pause: PauseGate, shutdown: ShutdownState, tokens: TokenProvider, metrics: PipelineMetrics,
            batchTokens: BatchTokens, workSignal: WorkSignal, inFlight: InFlightJobs, openWrites: OpenWrites,
            quotaWatch: QuotaWatch, logger: Logger
        ) {
            self.store = store
            self.config = config
            self.budget = budget
            self.concurrency = concurrency
            self.pause = pause
            self.shutdown = shutdown
            self.tokens = tokens
            self.metrics = metrics
            self.batchTokens = batchTokens
            self.workSignal = workSignal
            self.inFlight = inFlight
            self.writeBehind = WriteBehind(store: store)
            self.pathMonitor = APIPathMonitor(pause: pause, store: store, logger: logger, config: config)
            self.openWrites = openWrites
            self.quotaWatch = quotaWatch
            self.logger = logger
            let current = config.current
            self.fleetContent = current.fleet.map {
                FleetContentIndex(
                    $0, accountID: current.cloudflare.accountID, registry: metrics.registry, logger: logger)
            }
        }

        /// Each shared piece made once, the budget the config asks for: what the daemon runs with, and what an
        /// in-process test of the job path or the status site builds the same way.
        package static func make(
            _ config: Config, shared: SharedConfig, store: JobStore, tokens: TokenProvider, logger: Logger
        ) -> Dependencies {
            Dependencies(
                store: store, config: shared,
                budget: ConfiguredBudget.make(config, store: store, tokens: tokens, logger: logger),
                concurrency: ConcurrencyLimiter(config.upload, rateCap: ConcurrencyLimiter.rateCap(config)),
                pause: PauseGate(),
                shutdown: ShutdownState(), tokens: tokens, metrics: PipelineMetrics(), batchTokens: BatchTokens(),
                workSignal: WorkSignal(), inFlight: InFlightJobs(), openWrites: OpenWrites(), quotaWatch: QuotaWatch(),
                logger: logger)
        }

        package func endpoint(_ config: Config) -> ImagesClient.Endpoint {
            .init(
                apiBaseURL: config.cloudflare.apiBaseURL, accountID: config.cloudflare.accountID,
                timeoutSeconds: config.upload.requestTimeoutSeconds, caFile: config.cloudflare.caFile)
        }

        package func makeClient(_ config: Config) -> ImagesClient { ImagesClient(endpoint: endpoint(config)) }

        /// What a pool thread passes with each request: `heartbeat` is the thread's own. The operator's pause ends
        /// a budget wait too: a job waiting for its grant goes back to the queue unsent.
        package func admission(heartbeat: Heartbeat?) -> RequestAdmission {
            RequestAdmission(budget: budget, shutdown: shutdown, pause: pause, heartbeat: heartbeat)
        }
    }
}

/// The budget a config asks for, built once by the daemon and injected: with `[fleet]`, the fleet's, in Redis;
/// alone, this host's own, seeded from the request log (what an earlier process sent in this window still counts).
package enum ConfiguredBudget {
    package static func make(
        _ config: Config, store: JobStore, tokens: TokenProvider, logger: Logger
    ) -> any RequestBudget {
        let limit = config.upload.requestsPer5Min
        let window = Double(config.upload.rateWindowSeconds)
        guard let fleet = config.fleet else {
            return RateLimiter(limit: limit, windowSeconds: window, ledger: RequestLedger(store: store, logger: logger))
        }
        return FleetBudget(fleet, config: config, token: tokens.token, logger: logger)
    }
}

/// Jobs a live worker holds right now: the lease sweep never takes these back, however long their worker
/// waits on the rate limit (a 429 can block the pool for five minutes, longer than a lease).
package final class InFlightJobs: Sendable {
    private let ids = Mutex<Set<Int64>>([])
    package init() {}
    package func insert(_ id: Int64) { ids.withLock { _ = $0.insert(id) } }
    package func remove(_ id: Int64) { ids.withLock { _ = $0.remove(id) } }
    package var snapshot: Set<Int64> { ids.withLock { $0 } }
    package var count: Int { ids.withLock { $0.count } }
}
