import Foundation
import ImagedropStoreTestSupport
import ImagedropSupport
import Testing

@testable import ImagedropDaemon
@testable import ImagedropStore

/// The image quota a daemon read, as `status`, `status --json` and the status page show it.
@Suite("Quota in status", .serialized)
struct QuotaStatusTests {
    @Test("unknown: null in JSON and no line; once recorded: the count in text, JSON and page, the newest read winning")
    func shown() throws {
        let temp = try TemporaryStore()
        let store = temp.store
        let before = try StatusReport.load(database: temp.database)
        #expect(before.quota == nil && before.jsonObject["quota"] is JSONNull && !before.text.contains("quota:"))

        try store.recordQuota(allowed: 10, current: 3)
        try store.recordQuota(allowed: 10, current: 7)
        let report = try StatusReport.load(database: temp.database)
        let quota = try #require(report.quota)
        #expect(quota.allowed == 10 && quota.current == 7 && quota.checkedAt.hasSuffix("Z") && !quota.isFull)
        #expect(report.text.contains("quota:    7 of 10 images stored (checked \(quota.checkedAt))"))
        let json = try #require(report.jsonObject["quota"] as? [String: Any])
        #expect(
            json["allowed"] as? Int == 10 && json["current"] as? Int == 7
                && json["checked_at"] as? String == quota.checkedAt)
        let empty = JobStore.PageOfJobs(jobs: [], hasMore: false)
        let page = StatusPage.render(
            .init(
                report: report, recent: empty, failures: empty, perMinute: [:], nowMillis: 0,
                thumbnailSources: [], csrfToken: nil))
        #expect(page.contains("<p id=\"quota\">image quota: 7 of 10 images stored"))
    }
}
