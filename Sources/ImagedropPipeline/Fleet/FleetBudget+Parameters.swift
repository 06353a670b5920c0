extension FleetBudget {
    /// Burst and emission interval of the fleet's GCRA for `limit` requests per `window`.
    ///
    /// A GCRA admits at most `burst + T / interval` requests in any span T. With the whole budget as burst, a full
    /// burst at a window's end followed by the sustained rate would send nearly twice the budget within one window
    /// (Cloudflare counts a sliding window). So `burst + (window + margin) / interval = limit`, with the same margin
    /// the local limiter keeps (1% of the window, 20 ms to 3 s: a request's way to the API), and any window of the
    /// budget's length stays within it. The split: a tenth of the budget as burst, nine tenths spread over the
    /// window. A backlog runs at the sustained rate, so that is what to keep high (90%, where half-and-half would
    /// halve every long upload); a tenth is still a useful burst for a few files dropped at once.
    public struct Parameters: Sendable, Equatable {
        public var burst: Int
        public var intervalMicros: Int64

        public init(limit: Int, windowSeconds: Double) {
            guard limit > 0, windowSeconds.isFinite, windowSeconds > 0 else {
                burst = 0          // unlimited: the function only checks the block and the pause
                intervalMicros = 0
                return
            }
            let windowMicros = min(windowSeconds, 1e6) * 1e6
            let margin = min(max(windowMicros / 100, 20_000), 3_000_000)
            burst = max(limit / 10, 1)
            let spread = max(limit - burst, 1)
            intervalMicros = Int64(((windowMicros + margin) / Double(spread)).rounded(.up))
        }

        /// The most a GCRA with these parameters can admit within `seconds` (for tests and docs/fleet.md's claim).
        public func mostAdmitted(inSeconds seconds: Double) -> Int {
            guard burst > 0 else { return .max }
            return burst + Int((seconds * 1e6 / Double(intervalMicros)).rounded(.down))
        }
    }
}
