import Foundation
import Glibc
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import ImagesEmulator
import Testing

/// Issue 14, webhooks: the real daemon, the emulator, and a receiver on loopback.
@Suite("Webhooks", .serialized)
struct WebhookTests {
    static let secret = "webhook-test-secret"

    /// A fixture whose config has a `[webhook]` section pointing at `receiver`.
    static func fixture(
        _ receiver: WebhookReceiver, maxAttempts: Int, settleMillis: Int = 50,
        url: String? = nil
    ) throws -> DaemonFixture {
        let fixture = try DaemonFixture(settleMillis: settleMillis)
        let secretFile = fixture.directory + "/webhook-secret"
        try (secret + "\n").write(toFile: secretFile, atomically: true, encoding: .utf8)
        try fixture.writeConfig(
            settleMillis: settleMillis,
            extra: """
                [webhook]
                url = "\(url ?? receiver.url)"
                secret_file = "\(secretFile)"
                max_attempts = \(maxAttempts)
                timeout_s = 5
                """)
        return fixture
    }

    struct Delivery {
        var id: String
        var jobID: Int64
        var event: String
        var job: [String: Any]
        var accepted: Bool
    }

    /// Every request the receiver got, checked for a valid signature and parsed.
    static func deliveries(_ receiver: WebhookReceiver) throws -> [Delivery] {
        try receiver.received.map { request in
            let expected = "sha256=" + HMACSHA256.hex(key: Array(secret.utf8), message: request.body)
            #expect(request.header("X-Imagedrop-Signature") == expected)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
            let job = try #require(object["job"] as? [String: Any])
            #expect((object["at"] as? String)?.hasSuffix("Z") == true)
            return Delivery(
                id: try #require(request.header("X-Imagedrop-Delivery")), jobID: Int64(try #require(job["id"] as? Int)),
                event: try #require(object["event"] as? String), job: job, accepted: request.status == 200)
        }
    }

    static func backlog(_ fixture: DaemonFixture) -> WebhookBacklog? {
        try? fixture.store().webhookBacklog()
    }

    /// Each outcome (job, event) was accepted at least once, always under one delivery id.
    static func expectEveryOutcomeDelivered(_ fixture: DaemonFixture, _ receiver: WebhookReceiver) throws {
        let jobs = try fixture.jobs()
        let deliveries = try Self.deliveries(receiver)
        for job in jobs {
            let mine = deliveries.filter { $0.jobID == job.id && $0.event == job.state.rawValue }
            #expect(mine.contains { $0.accepted }, "job \(job.id) (\(job.state.rawValue)) never accepted")
            #expect(Set(mine.map(\.id)).count == 1, "job \(job.id): one delivery id per outcome")
            if let last = mine.last {
                #expect(last.job["path"] as? String == job.path.display)
                #expect(last.job["image_id"] as? String == job.imageID)
                #expect(last.job["state"] as? String == job.state.rawValue)
                #expect(last.job["source"] as? String == "default")
            }
        }
        #expect(Set(deliveries.map(\.id)).count == jobs.count, "no outcome other than the jobs' own")
    }

    @Test("through a receiver failing 30 % of requests every outcome is delivered, signed, under one id each")
    func flakyReceiver() throws {
        let receiver = try WebhookReceiver.start(failureProbability: 0.3, seed: 14)
        defer { receiver.stop() }
        let fixture = try Self.fixture(receiver, maxAttempts: 50)
        try fixture.start()
        for index in 0..<30 { try fixture.drop("ok\(index).png", seed: UInt64(14_000 + index)) }
        for index in 0..<5 { try fixture.drop("bad\(index).png", bytes: Array("not an image \(index)".utf8)) }
        #expect(fixture.waitForFinished(count: 35))
        #expect(fixture.waitUntil(seconds: 60) { Self.backlog(fixture) == WebhookBacklog() })
        #expect(fixture.stop() == 0)
        let deliveries = try Self.deliveries(receiver)
        #expect(deliveries.contains { !$0.accepted }, "the receiver did fail some requests")
        #expect(
            deliveries.filter { $0.event == "failed" }.allSatisfy {
                ($0.job["last_error"] as? String)?.isEmpty == false
            })
        try Self.expectEveryOutcomeDelivered(fixture, receiver)
        print("[webhook] requests=\(deliveries.count) refused=\(deliveries.filter { !$0.accepted }.count) outcomes=35")
    }

    @Test("kill -9 of the daemon at random moments loses no notification")
    func killNine() throws {
        let receiver = try WebhookReceiver.start(failureProbability: 0.2, seed: 9)
        defer { receiver.stop() }
        let fixture = try Self.fixture(receiver, maxAttempts: 50, settleMillis: 0)
        for index in 0..<60 { try fixture.drop("k\(index).png", seed: UInt64(90_000 + index)) }
        var random = SplitMix64(seed: 0x14)
        for _ in 0..<5 {
            try fixture.start()
            usleep(UInt32(Int.random(in: 100...600, using: &random)) * 1000)  // the random moment is the point
            fixture.stop(signal: SIGKILL)
        }
        try fixture.start()
        #expect(fixture.waitForFinished(count: 60, seconds: 120))
        #expect(fixture.waitUntil(seconds: 60) { Self.backlog(fixture) == WebhookBacklog() })
        #expect(fixture.stop() == 0)
        try Self.expectEveryOutcomeDelivered(fixture, receiver)
        let deliveries = try Self.deliveries(receiver)
        print("[webhook-kill] requests=\(deliveries.count) accepted=\(deliveries.filter(\.accepted).count) outcomes=60")
    }

    @Test("a delivery that keeps failing is dead in status; `webhook retry` sends it again")
    func deadAndRetry() throws {
        let receiver = try WebhookReceiver.start()
        defer { receiver.stop() }
        receiver.setFailing(true)
        let fixture = try Self.fixture(receiver, maxAttempts: 2)
        try fixture.start()
        try fixture.drop("a.png", seed: 1)
        try fixture.drop("b.png", seed: 2)
        #expect(fixture.waitForFinished(count: 2))
        #expect(fixture.waitUntil(seconds: 30) { Self.backlog(fixture)?.dead == 2 })
        let (status, out, _) = try fixture.runCommand(["status", "--json", "--config", fixture.configPath])
        #expect(status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        let webhooks = try #require(object["webhooks"] as? [String: Any])
        #expect(webhooks["dead"] as? Int == 2 && webhooks["pending"] as? Int == 0)
        #expect(webhooks["last_dead_error"] as? String == "HTTP 500")
        let (_, text, _) = try fixture.runCommand(["status", "--config", fixture.configPath])
        #expect(text.contains("webhooks: 0 pending, 2 dead"))
        #expect(receiver.received.count == 4)

        receiver.setFailing(false)
        let (retryStatus, retryOut, _) = try fixture.runCommand(["webhook", "retry", "--config", fixture.configPath])
        #expect(retryStatus == 0 && retryOut.contains("2 dead webhook deliveries queued again"))
        #expect(fixture.waitUntil(seconds: 30) { Self.backlog(fixture) == WebhookBacklog() })
        #expect(fixture.stop() == 0)
        try Self.expectEveryOutcomeDelivered(fixture, receiver)
    }

    @Test("the webhook url is POSTed to exactly as written: its trailing slash stays")
    func urlAsWritten() throws {
        let receiver = try WebhookReceiver.start()
        defer { receiver.stop() }
        let fixture = try Self.fixture(receiver, maxAttempts: 3, url: receiver.url + "/")
        try fixture.start()
        try fixture.drop("a.png", seed: 1)
        #expect(fixture.waitForFinished(count: 1))
        #expect(fixture.waitUntil(seconds: 30) { Self.backlog(fixture) == WebhookBacklog() })
        #expect(fixture.stop() == 0)
        #expect(receiver.received.map(\.uri) == ["/hook/"])
    }

    @Test("a webhook url without a readable secret is a config error (78)")
    func secretRequired() throws {
        let fixture = try DaemonFixture()
        try fixture.writeConfig(
            settleMillis: 100,
            extra: """
                [webhook]
                url = "http://127.0.0.1:9/hook"
                secret_file = "\(fixture.directory)/missing-secret"
                """)
        let (status, _, err) = try fixture.runCommand(["run", "--config", fixture.configPath])
        #expect(status == 78)
        #expect(err.contains("webhook.secret_file"))
        let (statusStatus, _, _) = try fixture.runCommand(["status", "--config", fixture.configPath])
        #expect(statusStatus == 0, "status needs no secret")
    }
}
