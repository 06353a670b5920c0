import Foundation
import ImagedropParsing
import Testing

@testable import ImagedropPipeline
@testable import ImagedropStore

/// The job path's decisions as functions (the owner, `JobProcessor`, only carries them out): which claimed job
/// goes on, and what each outcome of its request writes back — the same for a worker's own claim and the
/// preparer's hand-off.
@Suite("Job path")
struct JobPathTests {
    static let image = try! JSONDecoder().decode(ImageRecord.self, from: Data(#"{"id":"img","variants":["v"]}"#.utf8))

    @Test(
        "admission: a source gone from the config holds the job; a reload since pre-flight sends it back; else it runs")
    func admission() {
        let config = Config()
        #expect(JobPath.admit(current: nil, preparedUnder: nil) == .release(.sourceNotConfigured))
        #expect(JobPath.admit(current: nil, preparedUnder: config) == .release(.sourceNotConfigured))
        #expect(JobPath.admit(current: config, preparedUnder: nil) == .run(config), "a worker's own claim")
        #expect(
            JobPath.admit(current: config, preparedUnder: config) == .run(config), "prepared under the config in force")
        var reloaded = config
        reloaded.images.requireSignedURLs.toggle()
        #expect(JobPath.admit(current: reloaded, preparedUnder: config) == .release(.reloadedSincePrepared))
    }

    @Test("write-back of clean sends: each outcome to its own step")
    func cleanSends() {
        #expect(JobPath.writeBack(.done(Self.image), sentMixedBytes: false) == .finish(Self.image))
        #expect(JobPath.writeBack(.confirmExisting, sentMixedBytes: false) == .confirmExisting)
        #expect(JobPath.writeBack(.release, sentMixedBytes: false) == .release)
        #expect(
            JobPath.writeBack(.pause(reason: "full", kind: .quota), sentMixedBytes: false)
                == .pause(reason: "full", kind: .quota))
        #expect(
            JobPath.writeBack(.failed(reason: "too big", code: 5413, gaveUp: false), sentMixedBytes: false)
                == .fail(reason: "too big", code: 5413))
        let hint = Outcome.ServerHint(retryAfterMillis: 7000, rateLimited: true)
        let retry = Outcome.retry(reason: "HTTP 429", code: 971, delayMillis: 7000, rateLimited: true, hint: hint)
        #expect(JobPath.writeBack(retry, sentMixedBytes: false) == .retry(retry), "the hint travels with the outcome")
        let gaveUp = Outcome.failed(reason: "gave up after 3 attempts: HTTP 429", code: 971, gaveUp: true, hint: hint)
        #expect(
            JobPath.writeBack(gaveUp, sentMixedBytes: false) == .retry(gaveUp),
            "a 429 on the last attempt still blocks the budget")
    }

    @Test("write-back after mixed bytes: a stored image is owed a delete, a transient outcome is not the job's")
    func mixedBytes() {
        #expect(JobPath.writeBack(.done(Self.image), sentMixedBytes: true) == .oweDeleteThenRequeue(imageID: "img"))
        #expect(
            JobPath.writeBack(
                .retry(reason: "HTTP 503", code: nil, delayMillis: 1000, rateLimited: false), sentMixedBytes: true)
                == .requeueChanged)
        #expect(
            JobPath.writeBack(.failed(reason: "gave up", code: nil, gaveUp: true), sentMixedBytes: true)
                == .requeueChanged)
        // What the bytes cannot change: the credentials, the account, a permanent refusal, a 409.
        #expect(
            JobPath.writeBack(.pause(reason: "bad token"), sentMixedBytes: true)
                == .pause(reason: "bad token", kind: .credentials))
        #expect(
            JobPath.writeBack(.failed(reason: "too big", code: 5413, gaveUp: false), sentMixedBytes: true)
                == .fail(reason: "too big", code: 5413))
        #expect(JobPath.writeBack(.confirmExisting, sentMixedBytes: true) == .confirmExisting)
    }

    @Test("the outcome carries the server's hint; none when the server said nothing")
    func hintCarried() {
        let policy = RetryPolicy(initialMillis: 1000, maxMillis: 300_000, maxAttempts: 3)
        let quiet = Outcome.retry(
            reason: "x", code: nil, retryAfter: nil, rateLimited: false,
            context: .init(attemptsBefore: 0), policy: policy, random: { $0.upperBound })
        #expect(quiet.hint == nil)
        let last = Outcome.retry(
            reason: "x", code: nil, retryAfter: 2000, rateLimited: true,
            context: .init(attemptsBefore: 2), policy: policy, random: { $0.upperBound })
        #expect(last.hint == .init(retryAfterMillis: 2000, rateLimited: true))
        if case .failed(_, _, gaveUp: true, _) = last {} else { Issue.record("the third attempt gives up: \(last)") }
    }
}
