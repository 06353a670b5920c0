import Glibc
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import Logging
import Synchronization

/// Worker threads, each with its own JobProcessor (and so its own kept-alive connection), claiming jobs
/// from the table. Blocking calls (libcurl, SQLite) run on these threads, never on Swift's cooperative pool.
/// How many work is the concurrency limiter's current limit (`AdaptiveConcurrency`): threads are started
/// as the limit first reaches them, and a worker whose index is at or past the limit parks before claiming,
/// so a lowered limit holds fewer jobs `uploading`. A prober thread re-checks a refused token while paused.
/// A preparer thread claims and pre-flights the next jobs while the workers are in requests
/// (`UploadWorkerPool+Preparer`), so a worker goes from one reply's write-back straight to the next request.
/// Both take their jobs through `claimNext`: from eight workers on, claims come in batches (`ClaimReservoir`).
package final class UploadWorkerPool: Sendable {
    package let deps: JobProcessor.Dependencies
    /// Each thread's pulse, judged by `Liveness` for the watchdog: every thread of the pool adds its own.
    package let heartbeats: Heartbeats
    private let running = Mutex<Set<Int>>([])
    private let finished = Latch(count: 0)
    private let targetWorkers = Atomic<Int>(0)
    private let idle = Atomic<Int>(0)
    /// Workers that found nothing to claim (not those parked by the limit): the preparer leaves new jobs
    /// to them, and wakes them when it has made one ready.
    package let hungry = Atomic<Int>(0)
    /// Jobs pre-flighted ahead, waiting for a worker (held `uploading`, nothing sent yet).
    package let prepared = PreparedUploads()
    /// The preparer holds a claimed job it has not handed over yet.
    package let preparerBusy = Atomic<Bool>(false)
    /// Jobs claimed in a batch and not taken yet (held `uploading`, nothing sent, no file open).
    package let claimed = ClaimReservoir()

    package init(_ deps: JobProcessor.Dependencies, heartbeats: Heartbeats) {
        self.deps = deps
        self.heartbeats = heartbeats
    }

    /// Lease on a claimed job: long enough for the longest legitimate job (GET + upload + GET + DELETE, each
    /// bounded by request_timeout_s); a job still `uploading` past it was abandoned and is queued again.
    package static func leaseMillis(_ config: Config) -> Int64 {
        Int64(config.upload.requestTimeoutSeconds) * 4_000 + 60_000
    }

    package func start() {
        deps.writeBehind.start(heartbeat: heartbeats.heartbeat(Self.writerComponent))
        startWorkersUpToLimit()
        startThread(name: "imagedrop-prober") { [self] in probeLoop() }
        startThread(name: "imagedrop-preparer") { [self] in prepareLoop() }
    }

    /// A reload: the limiter takes the new `workers`/`max_workers`/budget; workers whose index is at or past
    /// the new cap finish their current job and exit.
    package func reconfigure(_ config: Config) {
        deps.concurrency.reconfigure(config.upload, rateCap: ConcurrencyLimiter.rateCap(config))
        startWorkersUpToLimit()
        deps.workSignal.notifyAll()  // parked workers look at the new limit now
    }

    /// True when every started worker waits for work (for `run --once`).
    package var allIdle: Bool {
        let started = running.withLock { $0.count }
        return idle.load(ordering: .acquiring) >= started && prepared.count == 0
            && !preparerBusy.load(ordering: .acquiring) && claimed.count == 0 && deps.writeBehind.isIdle
    }

    private func startWorkersUpToLimit() {
        let cap = deps.concurrency.threadCap
        targetWorkers.store(cap, ordering: .releasing)
        for index in 0..<min(cap, deps.concurrency.currentLimit) {
            let needed = running.withLock { $0.insert(index).inserted }
            if needed {
                startThread(name: "imagedrop-worker-\(index)") { [self] in workerLoop(index: index) }
            }
        }
    }

    /// The writer's name in the watchdog's roll call.
    static let writerComponent = "writer"

    /// Waits for every thread to end, up to `seconds`, then for the writer to write what the workers left it
    /// (given two seconds at least: the stop waits in short slices, and workers that end late in one must not
    /// make a batch being written look like a cut-short upload). True when all ended.
    package func waitForExit(seconds: Double) -> Bool {
        guard finished.wait(seconds: seconds) else { return false }
        guard deps.writeBehind.finish(seconds: 2) else { return false }
        heartbeats.remove(Self.writerComponent)
        let written = deps.writeBehind.written
        if written.writeBacks > 0 {
            deps.logger.debug(
                "done written behind",
                metadata: ["write_backs": "\(written.writeBacks)", "transactions": "\(written.batches)"])
        }
        return true
    }

    /// Workers with nothing to do right now (for `run --once` and the notify STATUS line).
    package var idleWorkers: Int { idle.load(ordering: .acquiring) }

    private func startThread(name: String, body: @escaping @Sendable () -> Void) {
        finished.countUp()
        let latch = finished
        OSThread.start(name: name, stackSize: 1 << 20) {
            body()
            latch.countDown()
        }
    }

    private func workerLoop(index: Int) {
        let processor = JobProcessor(deps, heartbeat: heartbeats.heartbeat("worker-\(index)"), loggedAs: "\(index)")
        let heartbeat = processor.heartbeat
        var claimProblem: String?
        defer {
            // A worker removed by a reload is not wedged: it leaves the watchdog's roll call.
            heartbeats.remove(heartbeat.component)
            running.withLock { _ = $0.remove(index) }
            // A batch claimed as the stop began would otherwise stay `uploading` in the table after it.
            if deps.shutdown.isStopping { returnClaimed() }
        }
        while !deps.shutdown.isStopping, index < targetWorkers.load(ordering: .acquiring) {
            if deps.pause.isPaused {
                heartbeat.beat(.paused)
                deps.workSignal.wait(timeoutSeconds: 1)
                continue
            }
            if !deps.quotaWatch.isStartChecked() {
                // The prober reads the image quota first: a full account pauses before anything is sent.
                heartbeat.beat(.idle)
                deps.workSignal.wait(timeoutSeconds: 0.05)
                continue
            }
            if index >= deps.concurrency.currentLimit {
                // Parked by a lowered limit: counts as idle, takes no job until the limit reaches it again.
                heartbeat.beat(.idle)
                idle.add(1, ordering: .relaxed)
                deps.workSignal.wait(timeoutSeconds: 1)
                idle.subtract(1, ordering: .relaxed)
                continue
            }
            // Deletes owed for mixed uploads first: the job that owes one is not claimed until it is settled.
            if processor.settleOwedDelete() { continue }
            if let ready = prepared.take() {
                heartbeat.beat(.working)
                let limitBefore = deps.concurrency.currentLimit
                processor.send(prepared: ready)
                heartbeat.beat(.turning)
                raiseIfGrown(from: limitBefore)
                continue
            }
            let job: Job?
            do {
                job = try claimNext()
                if claimProblem != nil {
                    deps.logger.notice("claiming jobs works again", metadata: ["worker": "\(index)"])
                    claimProblem = nil
                }
            } catch {
                // Once per change, not once a second per worker, while the database stays unwritable.
                if claimProblem != "\(error)" {
                    claimProblem = "\(error)"
                    deps.logger.error(
                        "could not claim a job; retrying every second",
                        metadata: ["worker": "\(index)", "error": "\(error)"])
                }
                heartbeat.beat(.idle)
                deps.workSignal.wait(timeoutSeconds: 1)
                continue
            }
            guard let job else {
                heartbeat.beat(.idle)
                idle.add(1, ordering: .relaxed)
                // Sequentially consistent: it and the batch taker's read of `hungry` after holding jobs pair up,
                // so one of the two sees the other (at worst a wait of `nextWakeSeconds`).
                hungry.add(1, ordering: .sequentiallyConsistent)
                if prepared.count == 0, claimed.count == 0 {
                    deps.workSignal.wait(timeoutSeconds: nextWakeSeconds())
                }
                hungry.subtract(1, ordering: .relaxed)
                idle.subtract(1, ordering: .relaxed)
                continue
            }
            heartbeat.beat(.working)
            let limitBefore = deps.concurrency.currentLimit
            processor.process(job)
            heartbeat.beat(.turning)
            raiseIfGrown(from: limitBefore)
        }
    }

    /// The next job to work on: one held from a batch, or a new claim, batched while nothing holds the workers
    /// back (a pause or a spent budget would keep a batch waiting `uploading`; then one job at a time).
    package func claimNext() throws -> Job? {
        let workers = deps.concurrency.currentLimit
        let batch = deps.pause.isPaused || deps.budget.waitMillis() > 0 ? 1 : ClaimReservoir.batchSize(workers: workers)
        let lease = Self.leaseMillis(deps.config.current)
        let job = try claimed.take(batch: batch, cap: workers) { try deps.store.claim(leaseMillis: lease, upTo: $0) }
        // Idle workers that found the table empty while this batch was being claimed sleep until the next
        // signal: the jobs it holds for them are theirs now, not this taker's after its upload.
        if hungry.load(ordering: .sequentiallyConsistent) > 0, claimed.count > 0 { deps.workSignal.notifyAll() }
        return job
    }

    /// Every job held from a batch back to the queue, ready at once.
    package func returnClaimed() {
        for job in claimed.takeAll() { releaseUnsent(job.id) }
    }

    /// A job the pool holds and never sent (held from a batch, prepared) back to the queue, ready at once.
    func releaseUnsent(_ id: Int64) {
        do { try deps.store.release(id: id) } catch {
            deps.logger.error("could not release job", metadata: ["job": "\(id)", "error": "\(error)"])
        }
    }

    private func raiseIfGrown(from limitBefore: Int) {
        if deps.concurrency.currentLimit > limitBefore {
            startWorkersUpToLimit()
            deps.workSignal.notifyAll()  // parked workers the raised limit reaches
        }
    }

    /// Sleep until the next retry is due (at most 1 s, so expired leases and config changes are noticed).
    package func nextWakeSeconds() -> Double {
        guard let next = try? deps.store.nextReadyAtMillis() else { return 1 }
        return min(1, max(0.001, Double(next - Timestamp.nowMillis()) / 1000))
    }

    private func probeLoop() {
        var lastSweep = Timestamp.monotonicNanos()
        let heartbeat = heartbeats.heartbeat("prober")
        var client = deps.makeClient(deps.config.current)
        let admission = deps.admission(heartbeat: heartbeat)
        deps.quotaWatch.beginStartCheck()
        checkQuota(client: client, admission: admission)
        deps.quotaWatch.markStartChecked()
        deps.workSignal.notifyAll()
        while !deps.shutdown.isStopping {
            let config = deps.config.current
            if !deps.pause.isPaused, deps.quotaWatch.takeDue() { checkQuota(client: client, admission: admission) }
            if Timestamp.monotonicNanos() - lastSweep > 30_000_000_000 {
                lastSweep = Timestamp.monotonicNanos()
                if let recovered = try? deps.store.recoverLeases(expiredOnly: true, inFlight: deps.inFlight.snapshot),
                    recovered > 0
                {
                    deps.logger.warning("jobs with expired leases queued again", metadata: ["count": "\(recovered)"])
                    deps.workSignal.notifyAll()
                }
            }
            // Only a pause the API caused is probed: the operator's is lifted by `imagedrop resume` alone.
            guard deps.pause.kind != nil else {
                sleepWhile(seconds: 1, heartbeat: heartbeat, activity: .idle)
                continue
            }
            sleepWhile(seconds: Double(config.upload.pauseProbeSeconds), heartbeat: heartbeat, activity: .paused)
            guard deps.pause.kind != nil, !deps.shutdown.isStopping else { continue }
            client = deps.makeClient(config)
            guard let token = deps.tokens.reload() else {
                let reason = deps.tokens.problem ?? "no API token"
                if deps.pause.pause(reason) {
                    PauseNotice.log(deps.logger, reason: reason, kind: .credentials, config: config)
                    try? deps.store.recordPause(reason)
                }
                continue
            }
            guard let reply = try? client.probeImagesAccess(token: token, admission: admission) else {
                continue  // stopping
            }  // stopping
            if let reason = deps.pathMonitor.pausedFor(reply) {
                // The path to the API still fails: the monitor keeps the queue paused.
                deps.logger.notice("API still unreachable", metadata: ["reason": "\(reason)"])
                continue
            }
            resumeIfProbeGotThrough(reply)
        }
        // Stopping: no worker takes a new grant any more, so what the budget reserved and did not use is
        // given back, and the next start counts only the requests really sent.
        deps.budget.returnUnusedReservation()
    }

    /// Reads the account's image stats (at start, then every 1,000 uploads), records them for `status`, and
    /// pauses the queue when the account is full — the same pause a 5453 reply causes, lifted by the same
    /// probe. Stats that cannot be read change nothing: an upload then meets the API's own 5453.
    private func checkQuota(client: ImagesClient, admission: RequestAdmission) {
        guard let token = deps.tokens.token ?? deps.tokens.reload(),
            let reply = try? client.probeImagesAccess(token: token, admission: admission),
            deps.pathMonitor.pausedFor(reply) == nil
        else { return }
        honourRateLimit(reply)
        recordQuota(reply)
        guard case .full(let reason) = QuotaProbe.verdict(ImageStats.read(reply)) else { return }
        let text = PauseNotice.text(reason, kind: .quota)
        if deps.pause.pause(text, kind: .quota) {
            PauseNotice.log(deps.logger, reason: text, kind: .quota, config: deps.config.current)
            try? deps.store.recordPause(text)
        }
    }

    /// A 429 to the prober's own read (the start's stats, a probe) is the account's answer like any other: the
    /// whole budget waits its Retry-After — fleet-wide with `[fleet]` — or the workers would send into the block.
    private func honourRateLimit(_ reply: ImagesClient.Reply) {
        guard case .transient(_, _, let retryAfter, true) = reply.classification else { return }
        let policy = RetryPolicy(config: deps.config.current.upload)
        deps.budget.block(forMillis: policy.rateLimitBlockMillis(retryAfterMillis: retryAfter))
    }

    /// Every stats reply read (the prober's probes too) is what `status` shows as the quota.
    private func recordQuota(_ reply: ImagesClient.Reply) {
        guard let stats = ImageStats.read(reply) else { return }
        do { try deps.store.recordQuota(allowed: stats.allowed, current: stats.current) } catch {
            deps.logger.warning("could not record the image quota", metadata: ["error": "\(error)"])
        }
    }

    /// A refused token is lifted only by an accepted probe; a full quota by stats that show room; a path
    /// failure by any reply that is not a refusal (the API answered: whatever is wrong now is for the jobs' own
    /// retries to find).
    private func resumeIfProbeGotThrough(_ reply: ImagesClient.Reply) {
        let kind = deps.pause.kind
        honourRateLimit(reply)
        recordQuota(reply)
        switch reply.classification {
        case .credentials(let reason, _):
            let text = PauseNotice.text(reason, kind: .credentials)
            if deps.pause.pause(text, kind: .credentials) {
                PauseNotice.log(deps.logger, reason: text, kind: .credentials, config: deps.config.current)
                try? deps.store.recordPause(text)
            } else {
                deps.logger.warning("token still refused", metadata: ["reason": "\(reason)"])
            }
        case .success where kind == .quota:
            switch QuotaProbe.verdict(ImageStats.read(reply)) {
            case .room: resume("image quota has room again; queue resumed")
            case .unknown: resume("image quota unknown (stats unreadable); queue resumed, an upload will tell")
            case .full(let reason):
                let text = PauseNotice.text(reason, kind: .quota)
                if deps.pause.pause(text, kind: .quota) {
                    PauseNotice.log(deps.logger, reason: text, kind: .quota, config: deps.config.current)
                    try? deps.store.recordPause(text)
                } else {
                    deps.logger.notice("image quota still reached", metadata: ["reason": "\(reason)"])
                }
            }
        case .success:
            resume(kind == .unreachable ? "API reachable again; queue resumed" : "token accepted again; queue resumed")
        case .transient(let reason, _, _, _) where reply.response == nil:
            deps.logger.notice("API still unreachable", metadata: ["reason": "\(reason)"])
        default:
            if kind == .unreachable { resume("API reachable again; queue resumed") }
        }
    }

    private func resume(_ message: Logger.Message) {
        if deps.pause.resume() {
            deps.logger.notice(message)
            if let reason = deps.pause.reason {
                deps.logger.notice("queue stays paused", metadata: ["reason": "\(reason)"])
            }
            try? deps.store.recordPause(nil)
            deps.workSignal.notifyAll()
        }
    }

    /// Waits, beating; a wait between probes (`.paused`) ends early when a SIGHUP asks for a probe now.
    private func sleepWhile(seconds: Double, heartbeat: Heartbeat, activity: Heartbeat.Activity) {
        let deadline = Timestamp.monotonicNanos() + UInt64(seconds * 1e9)
        while !deps.shutdown.isStopping, Timestamp.monotonicNanos() < deadline {
            if activity == .paused, deps.pause.takeProbeRequest() { return }
            heartbeat.beat(activity)
            sleepMillis(100)
        }
    }
}
