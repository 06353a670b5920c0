import Glibc
import ImagedropSupport
import ImagedropSystem
import Synchronization

extension FleetBudget {
    /// How often a host writes its heartbeat; `fleet status` calls a host offline after 30 s without one.
    package static let beatIntervalSeconds: UInt32 = 3

    /// The main loop hands over its latest figures (no Redis call there); the first call starts the heartbeat
    /// thread, which writes them every few seconds. The beat also brings a degraded host back: an idle host takes
    /// no grants, and would otherwise stay "degraded" long after Redis answers again.
    package func publish(_ report: FleetHostReport) {
        let start = reportSlot.withLock { slot in
            defer { slot.report = report }
            if slot.started { return false }
            slot.started = true
            return true
        }
        guard start else { return }
        OSThread.start(name: "fleet-heartbeat") { [weak self] in
            while let budget = self {
                budget.beat()
                sleep(Self.beatIntervalSeconds)
            }
        }
    }

    /// One heartbeat: the report under `{prefix}:host:{host}` (kept 24 h, as long as `fleet status` lists a host),
    /// stamped with Redis's own clock.
    func beat() {
        guard let report = reportSlot.withLock({ $0.report }) else { return }
        let now = Timestamp.monotonicNanos()
        state.withLock { state in
            guard state.degraded == nil || now >= state.retryRedisAt else { return }
            do throws(RedisError) {
                let connection = try connected(&state)
                guard let time = try connection.checked(["TIME"]).array?.first?.text, let seconds = Int64(time) else {
                    throw RedisError(code: .protocol, message: "unexpected reply to TIME")
                }
                rejoin(&state)
                let status =
                    state.degraded != nil
                    ? "degraded" : (state.pausedReason != nil || report.paused != nil ? "paused" : "running")
                _ = try connection.checked([
                    "SET", keys.host(host), report.json(state: status, beatSeconds: seconds), "EX", "86400",
                ])
                _ = try connection.checked(["ZADD", keys.hosts, String(seconds), host])
                // The whole fleet, for this host's status page and metrics (one MGET for all heartbeats).
                let names =
                    try connection.checked(["ZRANGEBYSCORE", keys.hosts, String(seconds - 86_400), "+inf"]).array?
                    .compactMap(\.text) ?? []
                let beats = names.isEmpty ? [] : (try connection.checked(["MGET"] + names.map(keys.host)).array ?? [])
                state.view = FleetView(
                    hosts: names.enumerated().map { index, name in
                        FleetView.Host(name: name, beat: index < beats.count ? beats[index].text : nil, now: seconds)
                    })
            } catch {
                if error.breaksConnection { state.connection = nil }
                degrade(&state, error, now: now)
            }
        }
    }
}
