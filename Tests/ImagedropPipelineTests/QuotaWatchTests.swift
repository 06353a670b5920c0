import Testing

@testable import ImagedropPipeline

@Suite("Quota watch")
struct QuotaWatchTests {
    @Test("due after every 1,000 uploads, not before (the start's read is the prober's own)")
    func cadence() {
        let watch = QuotaWatch()
        #expect(!watch.takeDue())
        for _ in 0..<(QuotaWatch.uploadsBetweenChecks - 1) { watch.noteUpload() }
        #expect(!watch.takeDue())
        watch.noteUpload()
        #expect(watch.takeDue() && !watch.takeDue())
        #expect(!watch.isStartChecked(now: 1), "closed until the start's read has begun")
        watch.beginStartCheck(now: 1_000)
        #expect(!watch.isStartChecked(now: 1_000 + QuotaWatch.startWaitNanos - 1))
        #expect(watch.isStartChecked(now: 1_000 + QuotaWatch.startWaitNanos), "a slow read holds the queue 2 s at most")
        watch.markStartChecked()
        #expect(watch.isStartChecked(now: 1_001))
    }
}
