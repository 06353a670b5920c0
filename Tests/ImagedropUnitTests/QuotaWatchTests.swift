@testable import ImagedropPipeline
import Testing

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
        #expect(!watch.isStartChecked)
        watch.markStartChecked()
        #expect(watch.isStartChecked)
    }
}
