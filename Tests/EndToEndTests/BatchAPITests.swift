import Foundation
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSystem
import ImagesEmulator
import Testing

/// `cloudflare.batch_api = true`: uploads go to the batch host with a batch token, refreshed before it expires.
@Suite("Batch API", .serialized)
struct BatchAPITests {
    @Test("uploads go through batch tokens, refreshed ahead of expiresAt, without a 401 or a failure")
    func batchUploads() throws {
        var emulator = EmulatorConfiguration()
        emulator.batchTokenLifetimeSeconds = 2
        emulator.faults.latencyMs = 40
        let fixture = try DaemonFixture(emulator: emulator, settleMillis: 0)
        var text = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        text = text.replacingOccurrences(
            of: "api_base_url = \"\(fixture.emulator.apiBaseURL)\"",
            with:
                "api_base_url = \"\(fixture.emulator.apiBaseURL)\"\nbatch_api = true\nbatch_base_url = \"\(fixture.emulator.baseURL)\""
        )
        try text.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        let count = 200
        for index in 0..<count { try fixture.drop("b\(index).png", seed: UInt64(70_000 + index)) }
        try fixture.start()
        #expect(fixture.waitForFinished(count: count, seconds: 120))
        #expect(fixture.counts()[.done] == count)
        let log = fixture.emulator.requestLog()
        let batchUploads = log.filter { $0.method == "POST" && $0.path.hasPrefix("/images/v1") }
        let apiUploads = log.filter { $0.method == "POST" && $0.path.hasPrefix("/client/v4") }
        let tokenFetches = log.filter { $0.path.hasSuffix("/images/v1/batch_token") }
        let refused = log.filter { $0.status == 401 }
        print(
            "[batch] uploads via batch host=\(batchUploads.count) via API=\(apiUploads.count) token fetches=\(tokenFetches.count) 401s=\(refused.count)"
        )
        #expect(batchUploads.count == count)
        #expect(apiUploads.isEmpty)
        #expect(tokenFetches.count >= 2, "a 2 s token must be refreshed during a run of several seconds")
        #expect(tokenFetches.count < 20, "workers share one token instead of each fetching its own")
        #expect(refused.isEmpty)
        #expect(fixture.emulator.storedImages().count == count)
        fixture.stop()
    }
}
