import ImagedropSystem
import ImagedropStore
import Logging
import Synchronization

/// Everything a worker shares with the rest of the daemon. All members are thread-safe.
public struct UploadServices: Sendable {
    public var store: JobStore
    public var config: SharedConfig
    public var limiter: any RequestBudget
    public var concurrency: ConcurrencyLimiter
    public var pause: PauseGate
    public var shutdown: ShutdownState
    public var tokens: TokenProvider
    public var metrics: PipelineMetrics
    public var batchTokens: BatchTokens
    public var workSignal: WorkSignal
    public var inFlight: InFlightJobs
    /// Each thread's pulse, judged by `Liveness` for the watchdog.
    public var heartbeats: Heartbeats
    /// Failures on the path to the API, pool-wide: pauses the queue for an outage (see APIPathMonitor).
    public var pathMonitor: APIPathMonitor
    /// Files the watcher saw written to and not yet closed: pre-flight leaves them to their close event.
    public var openWrites: OpenWrites
    /// When to read the account's image stats (at start, then every 1,000 uploads).
    public var quotaWatch: QuotaWatch
    public var logger: Logger
    /// With `[fleet]`: custom-id images another host stored, recorded done here without a request.
    public var fleetContent: FleetContentIndex?

    public init(store: JobStore, config: SharedConfig, tokens: TokenProvider, logger: Logger) {
        let current = config.current
        self.store = store
        self.config = config
        self.limiter = Self.budget(current, store: store, tokens: tokens, logger: logger)
        self.concurrency = ConcurrencyLimiter(current.upload, rateCap: ConcurrencyLimiter.rateCap(current))
        self.pause = PauseGate()
        self.pathMonitor = APIPathMonitor(pause: pause, store: store, logger: logger, config: config)
        self.shutdown = ShutdownState()
        self.tokens = tokens
        self.metrics = PipelineMetrics()
        self.batchTokens = BatchTokens()
        self.workSignal = WorkSignal()
        self.inFlight = InFlightJobs()
        self.heartbeats = Heartbeats()
        self.openWrites = OpenWrites()
        self.quotaWatch = QuotaWatch()
        self.logger = logger
        self.fleetContent = current.fleet.map {
            FleetContentIndex($0, accountID: current.cloudflare.accountID, registry: metrics.registry, logger: logger)
        }
    }

    /// With `[fleet]`, the budget is the fleet's, in Redis; alone, this host's own, seeded from the request log (what
    /// an earlier process sent in this window still counts).
    static func budget(_ config: Config, store: JobStore, tokens: TokenProvider, logger: Logger) -> any RequestBudget {
        let limit = config.upload.requestsPer5Min
        let window = Double(config.upload.rateWindowSeconds)
        guard let fleet = config.fleet else {
            return RateLimiter(limit: limit, windowSeconds: window, ledger: RequestLedger(store: store, logger: logger))
        }
        return FleetBudget(fleet, config: config, token: tokens.token, logger: logger)
    }

    package func endpoint(_ config: Config) -> ImagesClient.Endpoint {
        .init(apiBaseURL: config.cloudflare.apiBaseURL, accountID: config.cloudflare.accountID,
              timeoutSeconds: config.upload.requestTimeoutSeconds, caFile: config.cloudflare.caFile)
    }

    /// `heartbeat` is the calling thread's: the client beats it while waiting for budget and before each request.
    package func makeClient(_ config: Config, heartbeat: Heartbeat? = nil) -> ImagesClient {
        let shutdown = self.shutdown
        let pause = self.pause
        // The operator's pause ends a budget wait too: a job waiting for its grant goes back to the queue unsent.
        return ImagesClient(endpoint: endpoint(config), limiter: limiter,
                            shouldStop: { shutdown.isStopping || pause.isPausedByOperator }, shouldAbort: { shutdown.isAborting },
                            heartbeat: heartbeat, monitor: pathMonitor)
    }
}

/// Jobs a live worker holds right now: the lease sweep never takes these back, however long their worker
/// waits on the rate limit (a 429 can block the pool for five minutes, longer than a lease).
public final class InFlightJobs: Sendable {
    private let ids = Mutex<Set<Int64>>([])
    public init() {}
    package func insert(_ id: Int64) { ids.withLock { _ = $0.insert(id) } }
    package func remove(_ id: Int64) { ids.withLock { _ = $0.remove(id) } }
    package var snapshot: Set<Int64> { ids.withLock { $0 } }
    package var count: Int { ids.withLock { $0.count } }
}
