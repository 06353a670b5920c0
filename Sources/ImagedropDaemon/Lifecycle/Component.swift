import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem

/// One part of the running daemon with a life of its own (a thread or an event loop): the daemon keeps them in
/// a list (`Components`), starts them in its order and stops them in reverse, each one asked to stop and waited
/// for before the next. Modelled on swift-service-lifecycle's `Service` and `ServiceGroup`; the package itself
/// is not used, for the reasons in docs/layout.md.
package protocol Component: AnyObject {
    /// For the log, if it has to be cut short.
    var name: String { get }
    func start() throws
    /// Asks it to take no new work and end; returns at once.
    func beginStop()
    /// Waits until it ended or `deadline` (monotonic nanoseconds) passed. True when it ended.
    func wait(deadline: UInt64) -> Bool
    /// How long its stop may take before `abort` (the pool: `shutdown_grace_s`; the others: a few seconds).
    var stopPatienceSeconds: Double { get }
    /// Its patience ran out, or a second SIGTERM/SIGINT came: cut short what is left.
    func abort()
}

extension Component {
    package func abort() {}
}

/// The upload workers, the preparer and the prober (`UploadWorkerPool`): stopping them lets uploads in flight
/// finish within the grace period; past it their requests are cut short and their jobs go back to the queue.
final class PoolComponent: Component {
    let name = "upload workers"
    let pool: UploadWorkerPool
    private let shutdown: ShutdownState
    private let workSignal: WorkSignal
    private let graceSeconds: () -> Double

    init(_ pool: UploadWorkerPool, upload: JobProcessor.Dependencies) {
        self.pool = pool
        self.shutdown = upload.shutdown
        self.workSignal = upload.workSignal
        let config = upload.config
        self.graceSeconds = { Double(config.current.upload.shutdownGraceSeconds) }
    }

    func start() { pool.start() }
    func beginStop() {
        shutdown.beginStopping()
        workSignal.notifyAll()
    }
    func wait(deadline: UInt64) -> Bool { pool.waitForExit(seconds: Components.seconds(until: deadline)) }
    var stopPatienceSeconds: Double { graceSeconds() }
    func abort() { shutdown.beginAborting() }
}

/// The watcher's thread: armed before the list starts (so nothing written from then on is missed), run here.
final class WatcherComponent: Component {
    let name = "watcher"
    let watcher: Watcher
    private let done = Latch()

    init(_ watcher: Watcher) { self.watcher = watcher }

    func start() {
        OSThread.start(name: "imagedrop-watcher") { [watcher, done] in
            watcher.run()
            done.countDown()
        }
    }
    func beginStop() { watcher.stop() }
    func wait(deadline: UInt64) -> Bool { done.wait(seconds: Components.seconds(until: deadline)) }
    var stopPatienceSeconds: Double { 5 }
}

/// The webhook sender: stopped after the workers, so the outcomes they wrote are in the outbox (what is not sent
/// by then goes out at the next start).
final class WebhookComponent: Component {
    let name = "webhook sender"
    let sender: WebhookSender
    init(_ sender: WebhookSender) { self.sender = sender }
    func start() { sender.start() }
    func beginStop() { sender.beginStop() }
    func wait(deadline: UInt64) -> Bool { sender.waitForExit(seconds: Components.seconds(until: deadline)) }
    var stopPatienceSeconds: Double { 5 }
}

/// The host's heartbeat in Redis (`[fleet]` only): stopped after the workers, so the fleet sees the host through
/// its grace period.
final class FleetHeartbeatComponent: Component {
    let name = "fleet heartbeat"
    let heartbeat: FleetHeartbeat
    init(_ heartbeat: FleetHeartbeat) { self.heartbeat = heartbeat }
    func start() { heartbeat.start() }
    func beginStop() { heartbeat.beginStop() }
    func wait(deadline: UInt64) -> Bool { heartbeat.waitForExit(seconds: Components.seconds(until: deadline)) }
    var stopPatienceSeconds: Double { 5 }
}

/// The HTTP endpoint: started first and stopped last, so /healthz answers through the whole stop.
final class EndpointComponent: Component {
    let name = "http endpoint"
    private let open: () throws -> StatusEndpoint
    private(set) var endpoint: StatusEndpoint?
    init(_ open: @escaping () throws -> StatusEndpoint) { self.open = open }
    func start() throws { endpoint = try open() }
    func beginStop() { endpoint?.stop() }
    func wait(deadline: UInt64) -> Bool { true }
    var stopPatienceSeconds: Double { 0 }
}

/// Components in start order.
final class Components {
    private(set) var started: [any Component] = []
    let all: [any Component]

    init(_ all: [any Component]) { self.all = all }

    /// Starts each in order; one that fails stops those already started (in reverse) and the error goes on.
    func start() throws {
        for component in all {
            do {
                try component.start()
            } catch {
                stop()
                throw error
            }
            started.append(component)
        }
    }

    /// Stops what was started, in reverse: each is asked to stop and waited for up to its patience, then cut
    /// short and given 10 s more. `whileWaiting` is called every 0.2 s of a wait; true cuts the wait short now
    /// (`cutShort` is then told `bySignal`).
    func stop(
        whileWaiting: (any Component) -> Bool = { _ in false },
        cutShort: (any Component, _ bySignal: Bool) -> Void = { _, _ in }
    ) {
        for component in started.reversed() {
            component.beginStop()
            var bySignal = false
            if !waitPatiently(
                component,
                whileWaiting: {
                    bySignal = whileWaiting($0)
                    return bySignal
                })
            {
                cutShort(component, bySignal)
                component.abort()
                _ = component.wait(deadline: Timestamp.monotonicNanos() + 10_000_000_000)
            }
        }
        started.removeAll()
    }

    private func waitPatiently(_ component: any Component, whileWaiting: (any Component) -> Bool) -> Bool {
        let deadline = Timestamp.monotonicNanos() + UInt64(max(0, component.stopPatienceSeconds) * 1e9)
        repeat {
            if component.wait(deadline: min(deadline, Timestamp.monotonicNanos() + 200_000_000)) { return true }
            if whileWaiting(component) { return false }
        } while Timestamp.monotonicNanos() < deadline
        return component.wait(deadline: 0)
    }

    static func seconds(until deadline: UInt64) -> Double {
        let now = Timestamp.monotonicNanos()
        return deadline > now ? Double(deadline - now) / 1e9 : 0
    }
}
