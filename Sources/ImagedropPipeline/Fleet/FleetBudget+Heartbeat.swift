import ImagedropSupport
import ImagedropSystem
import Synchronization

extension FleetBudget {
    /// How often a host writes its heartbeat; `fleet status` calls a host offline after 30 s without one.
    package static let beatIntervalSeconds: UInt32 = 3

    /// One heartbeat: the report under `{prefix}:host:{host}` (kept 24 h, as long as `fleet status` lists a host),
    /// stamped with Redis's own clock.
    func beat(_ report: FleetHostReport) {
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
