/// What the prober's `GET …/images/v1/stats` says to a queue paused for a full image quota (code 5453): go
/// on when the account has room, stay paused — naming the count, `quota reached: N of N images stored` — when
/// it has none. Stats that cannot be read do not keep the queue waiting forever: the next upload asks the API
/// itself, and a 5453 pauses the queue again (one upload and one probe per `pause_probe_s` at most).
package enum QuotaProbe {
    package enum Verdict: Equatable {
        case room
        /// Still full; the reason for `status` without its `quota reached: ` prefix.
        case full(reason: String)
        case unknown
    }

    package static func verdict(_ stats: ImageStats?) -> Verdict {
        guard let stats else { return .unknown }
        guard stats.current >= stats.allowed else { return .room }
        return .full(reason: "\(stats.current) of \(stats.allowed) images stored")
    }
}
