import Foundation
import ImagedropStore
import ImagesEmulator
import Testing

/// README, "Reconcile and recover" → Webhooks: a row `reconcile --fix` rebuilds sends no `done` webhook (the
/// upload was announced when it happened). The hard case: a database restored from a backup that a daemon with
/// `[webhook]` wrote, so the outbox's triggers are armed for `done` when the rebuilt rows are inserted.
@Suite("Reconcile and webhooks", .serialized)
struct ReconcileWebhookTests {
    static func doneDeliveries(_ receiver: WebhookReceiver) throws -> [WebhookTests.Delivery] {
        try WebhookTests.deliveries(receiver).filter { $0.event == "done" && $0.accepted }
    }

    @Test(
        "a backup restored with 3 uploads missing from it: --fix rebuilds their rows and queues no delivery; the next upload's done is the only new one"
    )
    func rebuiltRowsSendNoDoneWebhook() throws {
        let receiver = try WebhookReceiver.start()
        defer { receiver.stop() }
        let fixture = try WebhookTests.fixture(receiver, maxAttempts: 5, settleMillis: 0)
        for index in 0..<4 { try fixture.drop("w\(index).png", seed: UInt64(24_100 + index)) }
        try fixture.start()
        #expect(fixture.waitForFinished(count: 4))
        #expect(fixture.waitUntil(seconds: 30) { (try? Self.doneDeliveries(receiver).count) == 4 })
        #expect(fixture.stop() == 0)
        let backup = fixture.directory + "/backup.sqlite3"
        try FileManager.default.copyItem(atPath: fixture.database, toPath: backup)

        for index in 4..<7 { try fixture.drop("w\(index).png", seed: UInt64(24_100 + index)) }
        try fixture.start()
        #expect(fixture.waitForFinished(count: 7))
        #expect(fixture.waitUntil(seconds: 30) { (try? Self.doneDeliveries(receiver).count) == 7 })
        #expect(fixture.stop() == 0)

        // The restore: the ledger of before the last three uploads, with `done` registered for the outbox.
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: fixture.database + suffix) }
        try FileManager.default.copyItem(atPath: backup, toPath: fixture.database)
        let (status, out, error) = try ReconcileTests.reconcile(fixture, ["--fix"])
        #expect(status == 0, "\(out) \(error)")
        #expect(out.contains("fixed: 0 queued again, 3 recorded, 0 refreshed; 0 left"), "\(out)")
        #expect(fixture.counts()[.done] == 7)
        #expect(WebhookTests.backlog(fixture) == WebhookBacklog(), "the rebuilt rows left nothing in the outbox")

        // The daemon then delivers what the outbox holds, in order: one new upload's `done` and nothing before it.
        try fixture.start()
        try fixture.drop("w7.png", seed: 24_107)
        #expect(fixture.waitForFinished(count: 8))
        #expect(fixture.waitUntil(seconds: 30) { (try? Self.doneDeliveries(receiver).count) ?? 0 >= 8 })
        #expect(fixture.stop() == 0)
        let deliveries = try Self.doneDeliveries(receiver)
        #expect(deliveries.count == 8, "7 uploads announced once each, and the new one: \(deliveries.map(\.jobID))")
        let newest = try #require(deliveries.last)
        #expect(newest.job["path"] as? String == fixture.inbox + "/w7.png", "\(newest.job)")
        #expect(Set(deliveries.map(\.id)).count == 8, "no delivery repeated")
    }
}
