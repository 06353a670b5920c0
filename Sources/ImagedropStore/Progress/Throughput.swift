/// The current upload rate and the backlog's ETA, from the counters the pipeline already keeps: the main loop
/// records a sample every turn and the rate is the change over the last minute (so a pause, a 429 or a spent
/// budget shows up as a falling rate within that minute, not as an average since start).
package struct Throughput: Sendable {
    package struct Rate: Sendable, Equatable {
        package var filesPerSecond: Double
        package var bytesPerSecond: Double
    }

    package struct Sample: Sendable {
        package var atNanos: UInt64
        package var finished: Int
        package var bytes: Int
    }

    package let windowNanos: UInt64
    private var samples: [Sample] = []

    package init(windowSeconds: Double = 60) { windowNanos = UInt64(windowSeconds * 1e9) }

    /// `finished`: jobs that reached `done` or `failed` since start; `bytes`: bytes uploaded since start.
    package mutating func record(atNanos now: UInt64, finished: Int, bytes: Int) {
        samples.append(Sample(atNanos: now, finished: finished, bytes: bytes))
        // Keep one sample at or before the window's start, so the rate always spans the whole window.
        while samples.count > 2, now - samples[1].atNanos >= windowNanos { samples.removeFirst() }
    }

    /// Nil until two samples a second apart exist: a rate from one turn of the loop would be noise.
    package var rate: Rate? {
        guard let first = samples.first, let last = samples.last, last.atNanos > first.atNanos else { return nil }
        let seconds = Double(last.atNanos - first.atNanos) / 1e9
        guard seconds >= 1 else { return nil }
        return Rate(
            filesPerSecond: Double(last.finished - first.finished) / seconds,
            bytesPerSecond: Double(last.bytes - first.bytes) / seconds)
    }

    /// Seconds until `waiting` jobs are through at the current rate; nil when nothing moves (a wait, a pause).
    package static func etaSeconds(waiting: Int, rate: Rate?) -> Int? {
        guard waiting > 0, let rate, rate.filesPerSecond > 0 else { return nil }
        let seconds = Double(waiting) / rate.filesPerSecond
        return seconds < Double(Int.max / 2) ? Int(seconds.rounded(.up)) : nil
    }

    /// `3.2 files/s (1.1 MiB/s)`, or nil when there is nothing to say (no rate yet, nothing moving). The ETA
    /// beside it is BacklogETA's, which weighs this rate against the budget.
    package static func text(rate: Rate?) -> String? {
        guard let rate else { return nil }
        guard rate.filesPerSecond > 0 else { return nil }  // a wait or a pause says so itself
        var text = HumanUnits.fileRate(perSecond: rate.filesPerSecond)
        if rate.bytesPerSecond > 0 { text += " (\(HumanUnits.byteRate(perSecond: rate.bytesPerSecond)))" }
        return text
    }
}
