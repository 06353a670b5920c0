import Foundation
import Glibc
import ImagedropStoreTestSupport
import ImagedropSupport
import ImagedropTestSupport
import Testing

@testable import ImagedropPipeline
@testable import ImagedropStore
@testable import ImagedropSystem

/// Moves into `done_dir`/`failed_dir` on real folders (and, where the machine has one, a second real
/// filesystem: /dev/shm), with the job table on a real SQLite file.
@Suite("Destination placement", .serialized)
struct DestinationPlacementTests {
    final class World {
        let temporary: TemporaryStore
        var directory: String { temporary.directory }
        var store: JobStore { temporary.store }
        let inbox: RawPath
        let otherFolder: TemporaryFolder?
        var otherFilesystem: String? { otherFolder?.path }
        init(doneOnOtherFilesystem: Bool = false) throws {
            temporary = try TemporaryStore("imagedrop-place")
            inbox = RawPath(temporary.directory + "/inbox")
            try FileManager.default.createDirectory(atPath: inbox.display, withIntermediateDirectories: true)
            otherFolder = doneOnOtherFilesystem ? try TemporaryFolder("imagedrop-place", in: "/dev/shm") : nil
        }
        var done: RawPath { RawPath((otherFilesystem ?? directory) + "/done") }

        /// A file in the inbox with its done job (the version and hash the job recorded).
        func doneJob(_ name: String, content: String) throws -> Job {
            let path = inbox.appending(name)
            try Data(content.utf8).write(to: URL(fileURLWithPath: path.display))
            let status = try FileStatus.of(path).get()
            let result = try store.enqueue([
                FileCandidate(path: path, root: inbox, size: status.size, mtimeNanos: status.mtimeNanos)
            ])
            guard case .inserted(let id) = result.first else { throw FixtureError("not inserted: \(result)") }
            _ = try store.claim(leaseMillis: 60_000)
            try store.markDone(
                id: id, imageID: "img-\(id)", variants: [], sha256: SHA256Hasher.hex(of: Array(content.utf8)),
                countAttempt: true, afterAction: "success")
            return try #require(try store.job(id: id))
        }

        func contents(_ path: RawPath) -> String? {
            (try? Data(contentsOf: URL(fileURLWithPath: path.display))).map { String(decoding: $0, as: UTF8.self) }
        }

        func names(in folder: RawPath) -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: folder.display)) ?? []).sorted()
        }
    }

    struct FixtureError: Error {
        let text: String
        init(_ text: String) { self.text = text }
    }

    func move(_ job: Job, in world: World, companions: [[UInt8]] = []) throws -> RawPath? {
        let present = try? FileStatus.of(job.path, followSymlinks: false).get()
        let preferred = world.done.appending(job.path.relative(to: world.inbox)!.bytes)
        return try DestinationPlacement(store: world.store, companions: companions).move(
            job, present: present, preferred: preferred)
    }

    @Test("a suffix goes before the last extension, numbered from 1")
    func suffixNames() {
        let names = [
            ("/d/IMG_0001.JPG", 1, "/d/IMG_0001.1.JPG"), ("/d/IMG_0001.JPG", 2, "/d/IMG_0001.2.JPG"),
            ("/d/a.tar.gz", 1, "/d/a.tar.1.gz"), ("/d/README", 3, "/d/README.3"), ("/d/.profile", 1, "/d/.profile.1"),
            ("/d/x.png", 0, "/d/x.png"),
        ]
        for (path, n, expected) in names { #expect(NoReplace.candidate(RawPath(path), n).display == expected) }
    }

    @Test("a name already in done_dir is never replaced: the second file gets NAME.1.EXT, the third NAME.2.EXT")
    func collisionsGetSuffixes() throws {
        let world = try World()
        var placed: [RawPath] = []
        for (index, content) in ["first", "second", "third"].enumerated() {
            let job = try world.doneJob("IMG_0001.JPG", content: content)
            placed.append(try #require(try move(job, in: world)))
            #expect(try world.store.job(id: job.id)?.movedTo == placed[index], "the job records where its file went")
        }
        #expect(
            placed.map(\.display)
                == ["IMG_0001.JPG", "IMG_0001.1.JPG", "IMG_0001.2.JPG"].map { world.done.display + "/" + $0 })
        #expect(placed.map { world.contents($0) } == ["first", "second", "third"])
    }

    @Test("a companion name that is taken (a sidecar left behind) makes the file take the next name too")
    func companionNamesCount() throws {
        let world = try World()
        try FileManager.default.createDirectory(atPath: world.done.display, withIntermediateDirectories: true)
        try Data("someone's".utf8).write(to: URL(fileURLWithPath: world.done.display + "/x.png.imagedrop.json"))
        let job = try world.doneJob("x.png", content: "mine")
        let placed = try #require(try move(job, in: world, companions: [Array(".imagedrop.json".utf8)]))
        #expect(placed.display == world.done.display + "/x.1.png")
        #expect(world.contents(RawPath(world.done.display + "/x.png.imagedrop.json")) == "someone's")
    }

    @Test("replayed after a crash between the rename and the commit: the recorded file is found, not moved again")
    func replayAfterRename() throws {
        let world = try World()
        let earlier = try world.doneJob("a.png", content: "earlier")
        _ = try move(earlier, in: world)  // a.png is taken
        let job = try world.doneJob("a.png", content: "later")
        let first = try #require(try move(job, in: world))
        #expect(first.display.hasSuffix("/a.1.png"))
        // The replay sees the row as it was committed (moved_to set, action still owed), the original gone.
        let replayed = try #require(try world.store.job(id: job.id))
        #expect(try move(replayed, in: world) == first)
        #expect(world.names(in: world.done) == ["a.1.png", "a.png"], "no third copy")
    }

    @Test("replayed after a crash between recording the name and renaming: the file is moved once")
    func replayBeforeRename() throws {
        let world = try World()
        let job = try world.doneJob("b.png", content: "b")
        try world.store.recordMoveTarget(id: job.id, path: world.done.appending("b.png"))
        let recorded = try #require(try world.store.job(id: job.id))
        let placed = try #require(try move(recorded, in: world))
        #expect(placed.display == world.done.display + "/b.png")
        #expect(world.names(in: world.done) == ["b.png"])
        #expect(!NoReplace.isTaken(job.path))
    }

    static let hasSecondFilesystem: Bool = {
        guard case .success(let tmp) = FileStatus.of(RawPath("/tmp")),
            case .success(let shm) = FileStatus.of(RawPath("/dev/shm"))
        else { return false }
        return tmp.device != shm.device && access("/dev/shm", W_OK) == 0
    }()

    @Test(
        "across filesystems: copied under a free name with O_EXCL semantics, the original removed, nothing replaced",
        .enabled(if: hasSecondFilesystem, "needs /dev/shm on another filesystem"))
    func crossDeviceMove() throws {
        let world = try World(doneOnOtherFilesystem: true)
        let first = try world.doneJob("c.png", content: "one")
        let firstPlaced = try #require(try move(first, in: world))
        let second = try world.doneJob("c.png", content: "two")
        let secondPlaced = try #require(try move(second, in: world))
        #expect(world.names(in: world.done) == ["c.1.png", "c.png"], "no temporary file left behind")
        #expect(world.contents(firstPlaced) == "one" && world.contents(secondPlaced) == "two")
        #expect(world.names(in: world.inbox).isEmpty)
    }

    @Test(
        "across filesystems, replayed after a crash before the original was removed: only the removal is done",
        .enabled(if: hasSecondFilesystem, "needs /dev/shm on another filesystem"))
    func crossDeviceReplay() throws {
        let world = try World(doneOnOtherFilesystem: true)
        let job = try world.doneJob("d.png", content: "dee")
        // As the crashed daemon left it: name recorded, copy placed (same bytes, same mtime), original still there.
        let target = world.done.appending("d.png")
        try world.store.recordMoveTarget(id: job.id, path: target)
        let copy = try AtomicFile.copyToTemporary(job.path, in: world.done, tag: "test")
        #expect(try NoReplace.rename(copy, to: target, regularFile: true))
        let replayed = try #require(try world.store.job(id: job.id))
        #expect(try move(replayed, in: world) == target)
        #expect(world.names(in: world.done) == ["d.png"], "not copied a second time")
        #expect(!NoReplace.isTaken(job.path))
    }

    @Test("a different file under the recorded name (same size, other bytes) is not taken for the job's own")
    func recordedNameTakenByAnother() throws {
        let world = try World()
        let job = try world.doneJob("e.png", content: "mine")
        try FileManager.default.createDirectory(atPath: world.done.display, withIntermediateDirectories: true)
        let target = world.done.appending("e.png")
        try Data("else".utf8).write(to: URL(fileURLWithPath: target.display))
        try world.store.recordMoveTarget(id: job.id, path: target)
        let replayed = try #require(try world.store.job(id: job.id))
        let placed = try #require(try move(replayed, in: world))
        #expect(placed.display == world.done.display + "/e.1.png")
        #expect(world.contents(target) == "else" && world.contents(placed) == "mine")
    }

    /// The window between the version check and the rename: here the check's status is taken, then the file is
    /// rewritten in place (O_TRUNC, different size) before the move, as a camera or scp would (soak seed 23917).
    func moveAfterRewrite(
        _ job: Job, in world: World, rewrite: String, doneOnOtherFilesystem: Bool
    ) throws -> (Error?, RawPath) {
        let present = try FileStatus.of(job.path, followSymlinks: false).get()
        let fd = open(job.path.display, O_WRONLY | O_TRUNC)
        #expect(fd >= 0)
        _ = rewrite.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        let preferred = world.done.appending(job.path.relative(to: world.inbox)!.bytes)
        do {
            _ = try DestinationPlacement(store: world.store, companions: []).move(
                job, present: present, preferred: preferred)
            return (nil, preferred)
        } catch {
            return (error, preferred)
        }
    }

    @Test(
        "a file rewritten between the version check and the rename is put back for its own job, not carried off",
        arguments: [false, true])
    func rewriteDuringMove(otherFilesystem: Bool) throws {
        let world = try World(doneOnOtherFilesystem: otherFilesystem)
        if otherFilesystem, world.otherFilesystem == nil { return }
        let job = try world.doneJob("cam.jpg", content: "the uploaded version")
        let (error, preferred) = try moveAfterRewrite(
            job, in: world, rewrite: "new bytes, not uploaded yet", doneOnOtherFilesystem: otherFilesystem)
        #expect(error is AfterUploadActions.LeftInPlace, "the move reports what happened: \(String(describing: error))")
        #expect(
            world.contents(job.path) == "new bytes, not uploaded yet",
            "the new version is back where its watcher sees it")
        #expect(world.contents(preferred) == nil, "nothing of it is left in done_dir: \(world.names(in: world.done))")
        #expect(try world.store.job(id: job.id)?.movedTo == nil, "the row does not claim a destination")
    }
}
