import Foundation
import Glibc
import ImagedropStoreTestSupport
import ImagedropSupport
import ImagedropTestSupport
import ImagesEmulator
import Logging
import Testing

@testable import ImagedropPipeline
@testable import ImagedropStore
@testable import ImagedropSystem

/// The webhook outbox on a real SQLite file, delivered by the real sender over loopback HTTP.
@Suite("Webhook outbox", .serialized)
struct WebhookOutboxTests {

    static func outboxRows(
        _ store: JobStore
    ) throws -> [(jobID: Int64, event: String, deliveryID: String, state: String, json: String)] {
        try store.withDatabase { db in
            let statement = try db.prepare(
                "SELECT job_id, event, delivery_id, state, job_json FROM webhook_outbox ORDER BY id")
            var rows: [(Int64, String, String, String, String)] = []
            while try statement.step() {
                rows.append(
                    (
                        statement.int64(0), statement.string(1) ?? "", statement.string(2) ?? "",
                        statement.string(3) ?? "", statement.string(4) ?? ""
                    ))
            }
            return rows
        }
    }

    /// One queued job, claimed: ready for an outcome.
    static func claimedJob(_ store: JobStore, _ name: String) throws -> Int64 {
        try store.enqueue([FileCandidate.inDrop(name)])
        return try #require(try store.claim(leaseMillis: 60_000)).id
    }

    @Test("HMAC-SHA256 matches RFC 4231 test case 2")
    func hmacVector() {
        #expect(
            HMACSHA256.hex(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test("each outcome writes one outbox row with the job as it ended; only configured events; none while off")
    func outcomeRows() throws {
        let temp = try TemporaryStore()
        let store = temp.store
        let silent = try Self.claimedJob(store, "silent.png")
        try store.markDone(
            id: silent, imageID: "img-0", variants: ["https://x/0/public"], sha256: "00", countAttempt: true,
            afterAction: nil)
        #expect(try Self.outboxRows(store).isEmpty, "no webhook configured: no backlog")

        try store.configureWebhookEvents([.done, .failed])
        let done = try Self.claimedJob(store, "a.png")
        try store.markDone(
            id: done, imageID: "img-a", variants: ["https://x/a/public"], sha256: "ab", countAttempt: true,
            afterAction: nil)
        let failed = try Self.claimedJob(store, "b.png")
        try store.markFailed(
            id: failed, error: "not an image", code: nil, sha256: nil, countAttempt: false, afterAction: nil)
        var rows = try Self.outboxRows(store)
        #expect(rows.map(\.jobID) == [done, failed])
        #expect(rows.map(\.event) == ["done", "failed"])
        #expect(Set(rows.map(\.deliveryID)).count == 2 && rows.allSatisfy { $0.deliveryID.count == 32 })
        let job = try #require(try JSONSerialization.jsonObject(with: Data(rows[0].json.utf8)) as? [String: Any])
        #expect(job["image_id"] as? String == "img-a")
        #expect(job["variants"] as? [String] == ["https://x/a/public"])
        #expect(job["path"] as? String == "/drop/a.png")
        let failure = try #require(try JSONSerialization.jsonObject(with: Data(rows[1].json.utf8)) as? [String: Any])
        #expect(failure["last_error"] as? String == "not an image")

        try store.configureWebhookEvents([.done])
        let unwanted = try Self.claimedJob(store, "c.png")
        try store.markFailed(id: unwanted, error: "boom", code: nil, sha256: nil, countAttempt: false, afterAction: nil)
        rows = try Self.outboxRows(store)
        #expect(rows.count == 2, "failed is not a configured event")
    }

    @Test("the outbox row commits with the outcome or not at all")
    func sameTransaction() throws {
        let temp = try TemporaryStore()
        let store = temp.store
        try store.configureWebhookEvents([.done, .failed])
        let id = try Self.claimedJob(store, "a.png")
        // Another connection makes every outbox insert fail, as a full disk would at that moment.
        let other = try Database(path: temp.database, readOnly: false, create: false)
        try other.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON webhook_outbox BEGIN SELECT RAISE(ABORT, 'outbox full'); END")
        #expect(throws: SQLiteError.self) {
            try store.markDone(id: id, imageID: "img", variants: [], sha256: nil, countAttempt: true, afterAction: nil)
        }
        #expect(try store.job(id: id)?.state == .uploading, "the outcome did not commit without its notification")
        try other.execute("DROP TRIGGER refuse")
        try store.markDone(id: id, imageID: "img", variants: [], sha256: nil, countAttempt: true, afterAction: nil)
        #expect(try store.job(id: id)?.state == .done)
        #expect(try Self.outboxRows(store).count == 1)
    }

    final class SenderWorld {
        let temp: TemporaryStore
        let store: JobStore
        let receiver: WebhookReceiver
        let sender: WebhookSender
        let secret = WebhookSecret(bytes: Array("s3cret".utf8))

        init(maxAttempts: Int) throws {
            temp = try TemporaryStore()
            store = temp.store
            receiver = try WebhookReceiver.start()
            var config = Config()
            config.upload.backoffInitialMillis = 10
            config.upload.backoffMaxMillis = 40
            config.webhook.url = receiver.url
            config.webhook.secret = secret
            config.webhook.maxAttempts = maxAttempts
            config.webhook.timeoutSeconds = 5
            try store.configureWebhookEvents(config.webhook.recordedEvents)
            try CurlGlobal.initialize()
            sender = WebhookSender(
                store: store, config: SharedConfig(config), heartbeat: Heartbeat(component: "webhook"),
                logger: Logger(label: "test"), pollSeconds: 0.05)
        }

        deinit {
            sender.stop()
            receiver.stop()
        }
    }

    @Test(
        "a job's outcomes arrive in order: a later one waits while an earlier one is being retried; one delivery id each, signed"
    )
    func perJobOrder() throws {
        let world = try SenderWorld(maxAttempts: 100)
        let store = world.store
        let id = try Self.claimedJob(store, "a.png")
        try store.markFailed(id: id, error: "HTTP 500", code: nil, sha256: nil, countAttempt: true, afterAction: nil)
        _ = try store.retryFailed(ids: [id])
        _ = try #require(try store.claim(leaseMillis: 60_000))
        try store.markDone(
            id: id, imageID: "img-a", variants: ["https://x/a/public"], sha256: nil, countAttempt: true,
            afterAction: nil)
        let other = try Self.claimedJob(store, "b.png")
        try store.markDone(id: other, imageID: "img-b", variants: [], sha256: nil, countAttempt: true, afterAction: nil)

        world.receiver.setFailing(true)
        world.sender.start()
        // The first row is retried several times; meanwhile the other job's row goes through the same failures.
        #expect(eventually(within: 20) { world.receiver.received.count >= 8 })
        world.receiver.setFailing(false)
        #expect(try eventually(within: 20) { try store.webhookBacklog()?.pending == 0 })

        let received = world.receiver.received
        func event(_ request: WebhookReceiver.Received) throws -> (job: Int64, event: String) {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
            let job = try #require(object["job"] as? [String: Any])
            return (try #require(job["id"] as? Int).asInt64, try #require(object["event"] as? String))
        }
        let forJob = try received.filter { try event($0).job == id }
        let firstDone = try #require(try forJob.firstIndex { try event($0).event == "done" })
        #expect(try forJob[..<firstDone].allSatisfy { try event($0).event == "failed" })
        #expect(forJob[..<firstDone].contains { $0.status == 200 }, "done went out only after failed was accepted")
        #expect(try forJob[firstDone...].allSatisfy { try event($0).event == "done" })
        #expect(Set(forJob[..<firstDone].map { $0.header("X-Imagedrop-Delivery") }).count == 1, "one id across retries")
        for request in received {
            #expect(
                request.header("X-Imagedrop-Signature")
                    == WebhookBody.signature(body: request.body, secret: world.secret))
            #expect(request.header("Content-Type") == "application/json")
        }
        #expect(try received.contains { try event($0).job == other && $0.status == 200 })
    }

    @Test("after max_attempts a delivery is dead; retryDeadWebhooks sends it again under the same id")
    func deadAndRetry() throws {
        let world = try SenderWorld(maxAttempts: 2)
        let store = world.store
        let id = try Self.claimedJob(store, "a.png")
        try store.markDone(id: id, imageID: "img-a", variants: [], sha256: nil, countAttempt: true, afterAction: nil)
        world.receiver.setFailing(true)
        world.sender.start()
        #expect(try eventually(within: 20) { try store.webhookBacklog()?.dead == 1 })
        #expect(world.receiver.received.count == 2)
        #expect(try store.webhookBacklog()?.pending == 0)
        #expect(try store.webhookBacklog()?.lastDeadError == "HTTP 500")

        world.receiver.setFailing(false)
        #expect(try store.retryDeadWebhooks() == 1)
        #expect(try eventually(within: 20) { try store.webhookBacklog() == WebhookBacklog() })
        let received = world.receiver.received
        #expect(received.count == 3 && received.last?.status == 200)
        #expect(Set(received.map { $0.header("X-Imagedrop-Delivery") }).count == 1)
    }
}

extension WebhookOutboxTests {
    @Test("a 2xx with a body over the 64 KiB read cap is delivered once, not re-sent until dead")
    func longAcceptance() throws {
        let world = try SenderWorld(maxAttempts: 3)
        let store = world.store
        world.receiver.setReplyBodyBytes(200 * 1024)
        let id = try Self.claimedJob(store, "a.png")
        try store.markDone(id: id, imageID: "img-a", variants: [], sha256: nil, countAttempt: true, afterAction: nil)
        world.sender.start()
        #expect(try eventually(within: 20) { try store.webhookBacklog()?.pending == 0 })
        #expect(try store.webhookBacklog() == WebhookBacklog(), "delivered, not dead")
        usleep(200_000)  // a re-send would come within the 10-40 ms backoff
        #expect(world.receiver.received.count == 1)
        #expect(world.receiver.received.first?.status == 200)
    }

    @Test("a pending delivery says what the outcome recorded, source included, after prune removed the job's row")
    func outboxOutlivesPrune() throws {
        let world = try SenderWorld(maxAttempts: 3)
        let store = world.store
        let id = try Self.claimedJob(store, "a.png")
        try store.withDatabase { db in try db.execute("UPDATE jobs SET source = 'products' WHERE id = \(id)") }
        try store.markDone(
            id: id, imageID: "img-a", variants: ["https://x/a/public"], sha256: "ab", countAttempt: true,
            afterAction: nil)
        #expect(
            try Self.outboxRows(store).first?.json.contains("\"source\":\"products\"") == true,
            "captured with the outcome")
        let pruned = try store.prune(doneBefore: Timestamp.iso8601(millis: Timestamp.nowMillis() + 86_400_000))
        #expect(pruned == 1)
        #expect(try store.job(id: id) == nil)
        world.sender.start()
        #expect(try eventually(within: 20) { try store.webhookBacklog()?.pending == 0 })
        let request = try #require(world.receiver.received.first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
        let job = try #require(object["job"] as? [String: Any])
        #expect(job["source"] as? String == "products")
        #expect(job["path"] as? String == "/drop/a.png")
        #expect(job["image_id"] as? String == "img-a")
    }

    @Test("a row written before the source was captured gets its job's source when the schema migrates")
    func migrationFillsSource() throws {
        let temp = try TemporaryFolder("imagedrop-store")
        let database = try Database(path: temp.database, readOnly: false, create: true)
        // The schema one step before the source moved into the row, with one pending delivery of a `products` job.
        // The step is found by what it does: later migrations are appended after it.
        let moved = try #require(Schema.migrations.firstIndex { $0.contains("json_set(job_json, '$.source'") })
        try Schema.migrate(database, to: moved)
        try database.execute(
            """
            INSERT INTO jobs (id, path, path_key, state, job_key, created_at, updated_at, source)
            VALUES (7, '/drop/a.png', x'00', 'done', 'k', '', '', 'products');
            INSERT INTO webhook_outbox (job_id, event, delivery_id, job_json, at)
            VALUES (7, 'done', 'd7', '{"id":7,"path":"/drop/a.png","state":"done"}', '2026-01-01T00:00:00.000Z'),
                   (8, 'done', 'd8', '{"id":8,"path":"/drop/gone.png","state":"done"}', '2026-01-01T00:00:00.000Z');
            """)
        database.close()
        let store = try JobStore(path: temp.database)
        // Pruned after the upgrade: the row alone must say which source it was.
        try store.withDatabase { db in try db.execute("DELETE FROM jobs WHERE id = 7") }
        let first = try #require(try store.nextWebhookDelivery())
        #expect(first.source == "products")
        try store.webhookDelivered(id: first.id)
        #expect(
            try store.nextWebhookDelivery()?.source == "default", "a job pruned before the upgrade: what it sent before"
        )
    }
}

extension Int {
    fileprivate var asInt64: Int64 { Int64(self) }
}
