import ImagedropPipeline
import ImagedropStore

extension Daemon {
    /// BacklogETA with what this daemon knows now: the last minute's rate, the request budget's room (uploads
    /// take from it unless they go through batch tokens, which have their own rate), and whether it is paused.
    func backlogETA(waiting: Int, upload: JobProcessor.Dependencies, rate: Throughput.Rate?) -> Int? {
        let batch = upload.config.current.cloudflare.batchAPI
        return BacklogETA.seconds(
            waiting: waiting, paused: upload.pause.isPaused,
            .init(
                measuredPerSecond: rate?.filesPerSecond,
                budget: batch ? nil : upload.budget.headroom(),
                batchPerSecond: batch ? upload.batchTokens.limiter.headroom()?.perSecond : nil))
    }
}
