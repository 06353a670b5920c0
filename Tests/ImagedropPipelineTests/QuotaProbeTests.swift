import Testing

@testable import ImagedropPipeline
@testable import ImagedropStore
@testable import ImagedropSystem

/// The paused queue's view of `GET …/images/v1/stats`, and the texts `status` and the log show.
@Suite("Quota probe")
struct QuotaProbeTests {
    static func stats(_ body: String, status: Int = 200) -> ImageStats? {
        let response = HTTPResponse(status: status, headers: [:], body: Array(body.utf8))
        return ImageStats.read(
            .init(classification: ReplyClassification.classify(response), response: response, image: nil))
    }

    @Test("stats are read from result.count; anything else is no stats")
    func reading() {
        let full = #"{"success":true,"errors":[],"messages":[],"result":{"count":{"allowed":3,"current":3}}}"#
        #expect(Self.stats(full) == ImageStats(allowed: 3, current: 3))
        #expect(Self.stats(#"{"success":true,"result":{"count":{"allowed":"3"}}}"#) == nil)
        #expect(Self.stats(#"{"success":true,"result":null}"#) == nil)
        #expect(Self.stats("not json") == nil)
        #expect(
            Self.stats(
                #"{"success":false,"errors":[{"code":10000}],"result":{"count":{"allowed":3,"current":0}}}"#,
                status: 401) == nil)
    }

    @Test("room resumes, full names the count, unknown lets an upload ask")
    func verdicts() {
        #expect(QuotaProbe.verdict(ImageStats(allowed: 5, current: 3)) == .room)
        #expect(QuotaProbe.verdict(ImageStats(allowed: 3, current: 3)) == .full(reason: "3 of 3 images stored"))
        #expect(QuotaProbe.verdict(ImageStats(allowed: 3, current: 4)) == .full(reason: "4 of 3 images stored"))
        #expect(QuotaProbe.verdict(nil) == .unknown)
        #expect(PauseNotice.text("3 of 3 images stored", kind: .quota) == "quota reached: 3 of 3 images stored")
        #expect(PauseNotice.text("HTTP 401, code 10000", kind: .credentials) == "token refused: HTTP 401, code 10000")
        #expect(PauseNotice.fix(reason: "", kind: .quota, config: Config()).contains("images/v1/stats"))
    }

    @Test("token verification asks the account route only after a refusal at the user route")
    func verifySteps() {
        #expect(ImagesClient.nextStep(afterUserRoute: .success) == .accepted)
        #expect(
            ImagesClient.nextStep(afterUserRoute: .credentials(reason: "HTTP 401, code 1000", code: 1000))
                == .askAccountRoute)
        #expect(
            ImagesClient.nextStep(
                afterUserRoute: .transient(
                    reason: "HTTP 503", code: nil, retryAfterMillis: nil,
                    rateLimited: false)) == .decided)
        #expect(ImagesClient.nextStep(afterUserRoute: .permanent(reason: "HTTP 404", code: 7003)) == .decided)
    }
}
