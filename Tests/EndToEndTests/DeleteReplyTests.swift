import Foundation
import Glibc
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import ImagedropTestSupport
import ImagesEmulator
import Testing

/// Every DELETE imagedrop sends is read like an upload's reply, and one that must happen is owed durably.
@Suite("Deletes", .serialized)
struct DeleteReplyTests {
    static func faults(_ change: (inout FaultConfiguration) -> Void) -> FaultConfiguration {
        var faults = FaultConfiguration()
        change(&faults)
        return faults
    }

    /// Rewrites the file in place (same inode), as an editor saving over it does.
    static func rewriteInPlace(_ path: String, with bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_TRUNC)
        guard fd >= 0 else { throw SystemError(call: "open") }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw SystemError(call: "write") }
    }

    @Test("mixed bytes: the delete of the stored mix is owed, survives a restart while refused, then is sent")
    func mixedBytesDeleteIsOwed() throws {
        let fixture = try DaemonFixture()
        try fixture.writeConfig(
            settleMillis: 100,
            uploadSection: """
                workers = 2
                max_attempts = 100
                backoff_initial_ms = 50
                backoff_max_ms = 500
                request_timeout_s = 10
                shutdown_grace_s = 5
                pause_probe_s = 1
                """)
        try fixture.start()
        fixture.emulator.setFaults(Self.faults { $0.latencyMs = 1500 })
        let path = try fixture.drop("edited.png", seed: 1)
        // Stored, reply held back: the file is saved over while the upload is still in flight.
        #expect(fixture.waitUntil(seconds: 20) { fixture.emulator.storedImages().count == 1 })
        fixture.emulator.setFaults(Self.faults { $0.serverErrorProbability = 1 })
        let final = SampleImages.png(width: 20, height: 20, seed: 2)
        try Self.rewriteInPlace(path, with: final)
        #expect(
            fixture.waitUntil(seconds: 20) {
                fixture.emulator.requestLog().contains { $0.method == "DELETE" && $0.status >= 500 }
            }, "the delete of the mixed upload is sent and refused")
        #expect(fixture.stop() == 0)
        #expect(fixture.emulator.storedImages().count == 1, "the mix is still stored while its delete fails")
        let owed = try JobStore(path: fixture.database).owedDeletes()
        #expect(owed.count == 1 && owed.first?.imageID == fixture.emulator.storedImages().first?.id)

        fixture.emulator.setFaults(FaultConfiguration())
        try fixture.start()
        #expect(
            fixture.waitUntil(seconds: 30) {
                fixture.emulator.storedImages().map(\.sha256) == [SHA256Hasher.hex(of: final)]
                    && fixture.counts()[.done] == 1
            }, "\(fixture.emulator.storedImages().map(\.sha256)) \(fixture.counts())")
        #expect(try JobStore(path: fixture.database).owedDeletes().isEmpty)
        #expect(try fixture.jobs().first?.sha256 == SHA256Hasher.hex(of: final))
        fixture.stop()
    }

    /// Path ids: version 1 done, then version 2 dropped; `flip` is applied while the GET that precedes the
    /// DELETE waits for its reply, so the DELETE is the first request the new faults meet.
    func replaceWithDeleteFault(
        _ flip: FaultConfiguration, until: (DaemonFixture, LoggedRequest) -> Bool
    )
        throws -> (DaemonFixture, [LoggedRequest], Int, [UInt8])
    {
        let fixture = try DaemonFixture(settleMillis: 0, extraConfig: "[images]\nid = \"path\"\n")
        try fixture.start()
        try fixture.drop("cover.png", seed: 11)
        #expect(fixture.waitForFinished(count: 1))
        fixture.emulator.setFaults(Self.faults { $0.latencyMs = 400 })
        let before = fixture.emulator.requestLog().count
        let second = SampleImages.png(width: 16, height: 16, seed: 12)
        try fixture.drop("cover.png", bytes: second)
        #expect(
            fixture.waitUntil(seconds: 20) {
                fixture.emulator.requestLog().dropFirst(before).contains {
                    $0.method == "GET" && $0.path.hasSuffix("/images/v1/cover.png")
                }
            })
        fixture.emulator.setFaults(flip)
        var deleteIndex: Int?
        #expect(
            fixture.waitUntil(seconds: 20) {
                deleteIndex = fixture.emulator.requestLog().indices.dropFirst(before).first {
                    fixture.emulator.requestLog()[$0].method == "DELETE"
                }
                guard let deleteIndex else { return false }
                return until(fixture, fixture.emulator.requestLog()[deleteIndex])
            })
        let log = fixture.emulator.requestLog()
        fixture.emulator.setFaults(FaultConfiguration())
        return (fixture, log, try #require(deleteIndex), second)
    }

    @Test("path ids: a 429 on the DELETE of the previous version blocks the pool for its Retry-After")
    func deleteRateLimited() throws {
        let flip = Self.faults {
            $0.rateLimitProbability = 1
            $0.retryAfterSeconds = 2
        }
        let (fixture, log, index, second) = try replaceWithDeleteFault(flip) { _, delete in delete.status == 429 }
        #expect(log[index].status == 429)
        #expect(fixture.waitForFinished(count: 2, seconds: 30))
        let after = fixture.emulator.requestLog().dropFirst(index + 1)
        let next = try #require(after.first)
        print(
            "[delete 429] next request \(next.receivedAtMillis - log[index].receivedAtMillis) ms after the 429 (Retry-After: 2 s)"
        )
        #expect(next.receivedAtMillis - log[index].receivedAtMillis >= 1900, "\(next.method) \(next.path)")
        #expect(fixture.emulator.storedImages().map(\.sha256) == [SHA256Hasher.hex(of: second)])
        fixture.stop()
    }

    @Test("path ids: a 401 on the DELETE of the previous version pauses the queue (no upload until a probe succeeds)")
    func deleteRefused() throws {
        let flip = Self.faults { $0.refuseTokens = true }
        let (fixture, log, index, second) = try replaceWithDeleteFault(flip) { fixture, delete in
            // Refused, and a pause probe has met the refusal since: time enough for an upload to have been tried.
            delete.status == 401
                && fixture.emulator.requestLog().contains {
                    $0.path.hasSuffix("/stats") && $0.status == 401 && $0.receivedAtMillis >= delete.receivedAtMillis
                }
        }
        let whilePaused = log.dropFirst(index + 1)
        #expect(
            !whilePaused.contains { $0.method == "POST" },
            "\(whilePaused.map { "\($0.method) \($0.path) \($0.status)" })")
        #expect(fixture.log.contains("queue paused"))
        #expect(fixture.waitForFinished(count: 2, seconds: 30))
        #expect(
            fixture.waitUntil(seconds: 20) {
                fixture.emulator.storedImages().map(\.sha256) == [SHA256Hasher.hex(of: second)]
            })
        fixture.stop()
    }
}
