import Foundation
import ImagedropParsing
import Testing

@testable import ImagedropPipeline
@testable import ImagedropSystem

/// `Outcome.decide`: every kind of reply to the job's next transition, with the retry policy's delays.
@Suite("Outcome")
struct OutcomeTests {
    static let policy = RetryPolicy(initialMillis: 1000, maxMillis: 300_000, maxAttempts: 3)
    static let image = try! JSONDecoder().decode(ImageRecord.self, from: Data(#"{"id":"img","variants":["v"]}"#.utf8))

    static func reply(
        _ classification: ReplyClassification, image: ImageRecord? = nil, answered: Bool = true
    ) -> ImagesClient.Reply {
        .init(
            classification: classification,
            response: answered ? HTTPResponse(status: 200, headers: [:], body: []) : nil, image: image)
    }

    static func decide(
        _ classification: ReplyClassification, image: ImageRecord? = nil, attemptsBefore: Int = 0,
        aborting: Bool = false, answered: Bool = true
    ) -> Outcome {
        Outcome.decide(
            reply(classification, image: image, answered: answered),
            context: .init(attemptsBefore: attemptsBefore, aborting: aborting), policy: policy,
            random: { $0.upperBound })
    }

    @Test("stored: done with the image; stored without an image in the reply: retried")
    func success() {
        #expect(Self.decide(.success, image: Self.image) == .done(Self.image))
        #expect(
            Self.decide(.success)
                == .retry(
                    reason: "HTTP 200 without an image in the reply", code: nil,
                    delayMillis: 1000, rateLimited: false))
    }

    @Test("already exists: confirm by GET; credentials: pause; permanent: failed")
    func others() {
        #expect(Self.decide(.alreadyExists) == .confirmExisting)
        #expect(Self.decide(.credentials(reason: "bad token", code: 10000)) == .pause(reason: "bad token"))
        #expect(
            Self.decide(.quota(reason: "service limit", code: 5453)) == .pause(reason: "service limit", kind: .quota))
        #expect(
            Self.decide(.quota(reason: "service limit", code: 5453), attemptsBefore: 2)
                == .pause(reason: "service limit", kind: .quota),
            "a full quota never gives up on a job, whatever its attempts")
        #expect(
            Self.decide(.permanent(reason: "too big", code: 5413))
                == .failed(reason: "too big", code: 5413, gaveUp: false))
    }

    @Test("transient: backoff doubles per attempt, a hint is a floor, a 429 without a hint waits backoff_max_ms")
    func transient() {
        let busy = ReplyClassification.transient(
            reason: "HTTP 503", code: nil, retryAfterMillis: nil, rateLimited: false)
        #expect(Self.decide(busy) == .retry(reason: "HTTP 503", code: nil, delayMillis: 1000, rateLimited: false))
        #expect(
            Self.decide(busy, attemptsBefore: 1)
                == .retry(reason: "HTTP 503", code: nil, delayMillis: 2000, rateLimited: false))
        let hinted = ReplyClassification.transient(
            reason: "HTTP 503", code: nil, retryAfterMillis: 7000, rateLimited: false)
        #expect(
            Self.decide(hinted)
                == .retry(
                    reason: "HTTP 503", code: nil, delayMillis: 7000, rateLimited: false,
                    hint: .init(retryAfterMillis: 7000, rateLimited: false)))
        let limited = ReplyClassification.transient(
            reason: "HTTP 429", code: 971, retryAfterMillis: nil, rateLimited: true)
        #expect(
            Self.decide(limited)
                == .retry(
                    reason: "HTTP 429", code: 971, delayMillis: 300_000, rateLimited: true,
                    hint: .init(retryAfterMillis: nil, rateLimited: true)))
    }

    @Test("transient on the last attempt: failed, saying it gave up after max_attempts")
    func gaveUp() {
        let busy = ReplyClassification.transient(
            reason: "HTTP 502", code: 5502, retryAfterMillis: nil, rateLimited: false)
        #expect(
            Self.decide(busy, attemptsBefore: 2)
                == .failed(reason: "gave up after 3 attempts: HTTP 502", code: 5502, gaveUp: true))
        // Not counting an attempt (a refused batch token, say) never gives up.
        #expect(
            Outcome.retry(
                reason: "x", code: nil, retryAfter: nil, rateLimited: false,
                context: .init(attemptsBefore: 5), policy: Self.policy, countAttempt: false,
                random: { $0.upperBound }) == .retry(reason: "x", code: nil, delayMillis: 16_000, rateLimited: false))
    }

    @Test("cut short by the end of the grace period: released; an answered reply while stopping still counts")
    func stopping() {
        let cut = ReplyClassification.transient(reason: "aborted", code: nil, retryAfterMillis: nil, rateLimited: false)
        #expect(Self.decide(cut, aborting: true, answered: false) == .release)
        #expect(Self.decide(.success, image: Self.image, aborting: true) == .done(Self.image))
    }
}
