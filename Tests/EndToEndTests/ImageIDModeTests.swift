import Foundation
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import ImagedropTestSupport
import ImagesEmulator
import Testing

/// `images.id`: content-hash (tested everywhere else), path, and Cloudflare-chosen ids.
@Suite("Image id modes", .serialized)
struct ImageIDModeTests {
    @Test("path ids: a changed file under a known path replaces its image under the same id")
    func pathIDReplacesChangedFile() throws {
        let fixture = try DaemonFixture(
            settleMillis: 0, extraConfig: "[images]\nid = \"path\"\nid_prefix = \"drop/\"\n")
        try fixture.start()
        let first = SampleImages.png(width: 8, height: 8, seed: 1)
        try fixture.drop("album/cover.png", bytes: first)
        #expect(fixture.waitForFinished(count: 1))
        let second = SampleImages.png(width: 8, height: 8, seed: 2)
        try fixture.drop("album/cover.png", bytes: second)
        #expect(fixture.waitForFinished(count: 2))
        let jobs = try fixture.jobs()
        #expect(jobs.count == 2)
        #expect(jobs.allSatisfy { $0.state == .done && $0.imageID == "drop/album/cover.png" })
        let images = fixture.emulator.storedImages()
        #expect(images.count == 1)
        #expect(images.first?.id == "drop/album/cover.png")
        #expect(images.first?.sha256 == SHA256Hasher.hex(of: second), "the newest version is what the id shows")
        fixture.stop()
    }

    @Test("Cloudflare-chosen ids: a lost reply is found again by the job key, so no file is stored twice")
    func cloudflareIDsWithLostReplies() throws {
        var emulator = EmulatorConfiguration()
        emulator.faults.closeAfterStoreProbability = 0.4
        emulator.faults.seed = 11
        let fixture = try DaemonFixture(
            emulator: emulator, settleMillis: 0, extraConfig: "[images]\nid = \"cloudflare\"\n")
        let count = 30
        for index in 0..<count { try fixture.drop("c\(index).png", seed: UInt64(800 + index)) }
        try fixture.start()
        #expect(fixture.waitForFinished(count: count, seconds: 90))
        #expect(fixture.counts()[.done] == count)
        let images = fixture.emulator.storedImages()
        let lost = fixture.emulator.requestLog().filter { $0.fault == "closeAfterStore" || $0.status == 0 }.count
        print(
            "[ids: cloudflare] lost replies=\(lost) stored=\(images.count) distinct=\(Set(images.map(\.sha256)).count)")
        #expect(lost > 0, "the fault must have fired for this test to mean anything")
        let duplicated = Dictionary(grouping: images, by: \.sha256).filter { $0.value.count > 1 }.keys
        for sha in duplicated {
            print(
                "[ids: cloudflare] duplicate \(sha.prefix(8)):",
                fixture.emulator.requestLog()
                    .filter { $0.fileSHA256 == sha || $0.path.contains("images/v2") }
                    .map { "\($0.method) \($0.path.suffix(40)) \($0.status) \($0.fault ?? "-")" })
        }
        #expect(images.count == count)
        #expect(Set(images.map(\.sha256)).count == count)
        let jobs = try fixture.jobs()
        #expect(Set(jobs.compactMap(\.imageID)) == Set(images.map(\.id)))
        #expect(images.allSatisfy { $0.metaJSON.contains("imagedrop_job") && !$0.id.isEmpty })
        fixture.stop()
    }

    @Test("require_signed_urls sends no custom id (Cloudflare would refuse it with 5410)")
    func signedURLsUseCloudflareIDs() throws {
        let fixture = try DaemonFixture(settleMillis: 0, extraConfig: "[images]\nrequire_signed_urls = true\n")
        try fixture.drop("private.png", seed: 5)
        try fixture.start()
        #expect(fixture.waitForFinished(count: 1))
        let image = try #require(fixture.emulator.storedImages().first)
        #expect(image.requireSignedURLs)
        #expect(image.id.count == 36, "a UUID chosen by the API, not the content hash")
        #expect(try fixture.jobs().first?.state == .done)
        fixture.stop()
    }
}
