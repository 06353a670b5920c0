extension FleetBudget {
    /// Burst and emission interval of the fleet's GCRA for `limit` requests per `window`.
    ///
    /// A GCRA admits at most `burst + T / interval` requests in any span T. With the whole budget as burst, a full
    /// burst at a window's end followed by the sustained rate would send nearly twice the budget within one window
    /// (Cloudflare counts a sliding window). So `burst + (window + margin) / interval = limit`, with the same margin
    /// the local limiter keeps (1% of the window, 20 ms to 3 s: a request's way to the API), and any window of the
    /// budget's length stays within it. The split: a fiftieth of the budget as burst (24 of 1,200), the rest spread
    /// over the window. A backlog runs at the sustained rate, so that is what to keep high: ~97% of the budget
    /// (a tenth as burst held it at 89%). The burst must also stay under a fifth of the budget for the
    /// degraded share to be safe (`FleetBudget+Redis`: pre-outage GCRA traffic plus the fallbacks' smooth rate).
    package struct Parameters: Sendable, Equatable {
        package var burst: Int
        package var intervalMicros: Int64

        package init(limit: Int, windowSeconds: Double) {
            guard limit > 0, windowSeconds.isFinite, windowSeconds > 0 else {
                burst = 0  // unlimited: the function only checks the block and the pause
                intervalMicros = 0
                return
            }
            let windowMicros = min(windowSeconds, 1e6) * 1e6
            let margin = min(max(windowMicros / 100, 20_000), 3_000_000)
            burst = max(limit / 50, 1)
            let spread = max(limit - burst, 1)
            intervalMicros = Int64(((windowMicros + margin) / Double(spread)).rounded(.up))
        }

        /// The most a GCRA with these parameters can admit within `seconds` (for tests and docs/fleet.md's claim).
        package func mostAdmitted(inSeconds seconds: Double) -> Int {
            guard burst > 0 else { return .max }
            return burst + Int((seconds * 1e6 / Double(intervalMicros)).rounded(.down))
        }
    }
}
