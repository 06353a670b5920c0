import Foundation
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import ImagedropTestSupport
import ImagesEmulator
import Testing

/// `imagedrop prune` removes history, never knowledge: files still in the drop folder (`on_success = "keep"`)
/// are not queued again by the next start, rescan or backfill — no POST, no GET, no second stored image.
@Suite("Prune keeps what is stored", .serialized)
struct PruneHistoryTests {
    func pruneThenRestart(extraConfig: String, label: String) throws {
        let fixture = try DaemonFixture(extraConfig: extraConfig)
        let count = 3
        for index in 0..<count { try fixture.drop("kept-\(index).png", seed: UInt64(600 + index)) }
        try fixture.start()
        #expect(fixture.waitForFinished(count: count))
        #expect(fixture.stop() == 0)
        #expect(fixture.emulator.storedImages().count == count)

        let (pruned, output, error) = try fixture.runCommand([
            "prune", "--config", fixture.configPath, "--older-than-days", "0",
        ])
        #expect(pruned == 0 && output.hasPrefix("\(count) done jobs"), "\(output) \(error)")
        #expect(fixture.counts().values.reduce(0, +) == 0)
        let requestsBefore = fixture.emulator.requestLog().count

        // The start-up scan has run when start() returns: nothing may have been queued.
        try fixture.start()
        #expect(fixture.counts().values.reduce(0, +) == 0, "the start-up scan queued pruned files again")
        // A backfill of the whole folder goes through the same idempotent insert.
        let (enqueued, enqueueOutput, _) = try fixture.runCommand([
            "enqueue", "--config", fixture.configPath, fixture.inbox,
        ])
        #expect(enqueued == 0 && enqueueOutput.contains("0 queued"), "\(enqueueOutput)")
        // A sentinel: once it is done, anything queued before it would have been sent too.
        try fixture.drop("sentinel.png", seed: 699)
        #expect(fixture.waitForFinished(count: 1))
        #expect(fixture.stop() == 0)

        let newRequests = fixture.emulator.requestLog().dropFirst(requestsBefore)
        let sentinelSHA = SHA256Hasher.hex(of: SampleImages.png(width: 16, height: 16, seed: 699))
        let strays = newRequests.filter {
            $0.path.contains("/images/v") && !$0.path.hasSuffix("/stats") && $0.fileSHA256 != sentinelSHA
        }
        print("[prune: \(label)] requests after prune: \(newRequests.count), not for the sentinel: \(strays.count)")
        #expect(strays.isEmpty, "\(strays.map { "\($0.method) \($0.path)" })")
        #expect(fixture.emulator.storedImages().count == count + 1, "no second stored image")
        #expect(try fixture.jobs().map(\.path.baseName) == [Array("sentinel.png".utf8)])
    }

    @Test("content-hash ids: no POST and no GET for pruned files after a restart and a backfill")
    func contentHash() throws {
        try pruneThenRestart(extraConfig: "", label: "content-hash")
    }

    @Test("Cloudflare-chosen ids (require_signed_urls): no second stored image after prune and restart")
    func cloudflareIDs() throws {
        try pruneThenRestart(extraConfig: "[images]\nrequire_signed_urls = true\n", label: "cloudflare ids")
    }
}
