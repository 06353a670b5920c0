import Foundation
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import ImagedropTestSupport
import ImagesEmulator
import Testing

/// `images.id = "path"` with two watch roots: `/…/inbox/x.png` and `/…/second/x.png` are two files, so two
/// images — never one replacing the other.
@Suite("Path ids across roots", .serialized)
struct PathIDRootsTests {
    func twoRoots(_ fixture: DaemonFixture, second: String) throws {
        try FileManager.default.createDirectory(atPath: second, withIntermediateDirectories: true)
        let text = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
            .replacingOccurrences(
                of: "paths = [\"\(fixture.inbox)\"]", with: "paths = [\"\(fixture.inbox)\", \"\(second)\"]")
        try text.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
    }

    @Test("the same relative name under two roots: two images, ids starting with each root's name")
    func twoRootsTwoImages() throws {
        let fixture = try DaemonFixture(settleMillis: 0, extraConfig: "[images]\nid = \"path\"\n")
        let second = fixture.directory + "/second"
        try twoRoots(fixture, second: second)
        try fixture.start()
        let first = SampleImages.png(width: 8, height: 8, seed: 31)
        try fixture.drop("x.png", bytes: first)
        #expect(fixture.waitForFinished(count: 1))
        let other = SampleImages.png(width: 8, height: 8, seed: 32)
        try writeFile(atPath: second + "/x.png.part", contents: Data(other))
        rename(second + "/x.png.part", second + "/x.png")
        #expect(fixture.waitForFinished(count: 2))
        fixture.stop()
        let images = Dictionary(uniqueKeysWithValues: fixture.emulator.storedImages().map { ($0.id, $0.sha256) })
        #expect(images == ["inbox/x.png": SHA256Hasher.hex(of: first), "second/x.png": SHA256Hasher.hex(of: other)])
        let jobs = try fixture.jobs()
        #expect(Set(jobs.compactMap(\.imageID)) == ["inbox/x.png", "second/x.png"])
        #expect(jobs.allSatisfy { $0.state == .done })
    }

    @Test("two roots with the same name cannot have path ids: config error 78 naming watch.paths")
    func sameNameRefused() throws {
        let fixture = try DaemonFixture(extraConfig: "[images]\nid = \"path\"\n")
        let twin = fixture.directory + "/elsewhere/inbox"
        try twoRoots(fixture, second: twin)
        let (status, _, error) = try fixture.runCommand(["check", "--config", fixture.configPath, "--offline"])
        #expect(status == 78)
        #expect(error.contains("watch.paths") && error.contains("same name"), "\(error)")
        let (run, _, runError) = try fixture.runCommand(["run", "--once", "--config", fixture.configPath])
        #expect(run == 78, "\(runError)")
    }
}
