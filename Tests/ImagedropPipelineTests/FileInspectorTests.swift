import Foundation
import Glibc
import ImagedropSupport
import ImagedropTestSupport
import Synchronization
import Testing

@testable import ImagedropPipeline
@testable import ImagedropSystem

/// Pre-flight on real files in a temp folder: what is accepted, and why the rest is refused.
@Suite("Pre-flight")
final class FileInspectorTests {
    let directory: String

    init() throws {
        directory = NSTemporaryDirectory() + "imagedrop-inspect-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/inbox", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/outside", withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func reason(_ path: String, follow: Bool = false) -> String? {
        if case .rejected(let reason) = FileInspector.inspect(
            path: RawPath(path), root: RawPath(directory + "/inbox"),
            followSymlinksOutside: follow)
        {
            return reason
        }
        return nil
    }

    /// The file pre-flight makes ready at `inbox/name`, its kept bytes charged to `budget`; nil when it is not ready.
    func ready(_ name: String, hashingBelow: Int = .max, keeping budget: KeptBytesBudget) -> InspectedFile? {
        guard
            case .ready(let file) = FileInspector.inspect(
                path: RawPath(directory + "/inbox/" + name), root: RawPath(directory + "/inbox"),
                followSymlinksOutside: false, hashingBelow: hashingBelow, keeping: budget)
        else { return nil }
        return file
    }

    @Test("a valid image is opened, hashed and probed")
    func accepted() throws {
        let bytes = SampleImages.png(width: 10, height: 7, seed: 1)
        try writeFile(atPath: directory + "/inbox/a.png", contents: Data(bytes))
        guard
            case .ready(let file) = FileInspector.inspect(
                path: RawPath(directory + "/inbox/a.png"),
                root: RawPath(directory + "/inbox"), followSymlinksOutside: false)
        else {
            Issue.record("not ready")
            return
        }
        #expect(file.sha256 == SHA256Hasher.hex(of: bytes))
        #expect(file.info.width == 10 && file.info.height == 7)
        #expect(file.status.size == bytes.count)
    }

    @Test("a file of at most 64 KiB keeps the bytes it was hashed from; a larger one, or one not hashed, keeps none")
    func keptBytes() throws {
        let small = SampleImages.png(approximateBytes: 50_000, seed: 11)
        let large = SampleImages.png(approximateBytes: 100_000, seed: 12)
        #expect(small.count <= FileInspector.keptBytesLimit && large.count > FileInspector.keptBytesLimit)
        try writeFile(atPath: directory + "/inbox/small.png", contents: Data(small))
        try writeFile(atPath: directory + "/inbox/large.png", contents: Data(large))
        let budget = KeptBytesBudget(limit: 1 << 20)
        let kept = try #require(ready("small.png", keeping: budget))
        #expect(kept.bytes == small)
        #expect(kept.sha256 == SHA256Hasher.hex(of: small))
        #expect((kept.info.width ?? 0) > 0)
        let notKept = try #require(ready("large.png", keeping: budget))
        #expect(notKept.bytes == nil && notKept.sha256 == SHA256Hasher.hex(of: large))
        let notHashed = try #require(ready("small.png", hashingBelow: 1, keeping: budget))
        #expect(notHashed.bytes == nil && notHashed.sha256 == nil)
        #expect(budget.used == small.count)
    }

    @Test(
        "kept bytes stay within their budget: a file past it is read again as it is sent; a closed one gives its share back"
    )
    func keptBytesBudget() throws {
        let small = SampleImages.png(approximateBytes: 50_000, seed: 13)
        try writeFile(atPath: directory + "/inbox/small.png", contents: Data(small))
        let budget = KeptBytesBudget(limit: small.count + 100)
        var first = try #require(ready("small.png", keeping: budget))
        #expect(first.bytes == small && budget.used == small.count)
        let second = try #require(ready("small.png", keeping: budget))
        #expect(second.bytes == nil && second.sha256 == SHA256Hasher.hex(of: small))
        first = second
        #expect(budget.used == 0)
        let third = try #require(ready("small.png", keeping: budget))
        #expect(third.bytes == small && budget.used == small.count)
        #expect(KeptBytesBudget(limit: 0).take(1) == nil)
    }

    @Test("a symlink named right in the root is resolved and checked like any other; a plain file there is taken")
    func symlinkInRoot() throws {
        try writeFile(
            atPath: directory + "/outside/secret.png",
            contents: Data(SampleImages.png(width: 4, height: 4, seed: 3)))
        try FileManager.default.createSymbolicLink(
            atPath: directory + "/inbox/link.png", withDestinationPath: directory + "/outside/secret.png")
        #expect(reason(directory + "/inbox/link.png")?.contains("symlink leads out of the watched tree") == true)
        #expect(reason(directory + "/inbox/link.png", follow: true) == nil)
        try writeFile(
            atPath: directory + "/inbox/plain.png", contents: Data(SampleImages.png(width: 4, height: 4, seed: 4)))
        #expect(reason(directory + "/inbox/plain.png") == nil)
    }

    /// A file named right in its root skips the kernel's path check (`isNamedInRoot`): what keeps a symlink swapped in
    /// at the wrong moment from publishing its target is the open without following one and the version check. Raced
    /// here for real: another thread swaps the name between the file and a symlink to outside while pre-flight runs.
    @Test("a name swapped between a file and a symlink to outside while pre-flight runs never yields the outside bytes")
    func swappedNameNeverFollowed() throws {
        let own = SampleImages.png(width: 6, height: 6, seed: 21)
        let secret = SampleImages.png(width: 5, height: 5, seed: 22)
        try FileManager.default.createDirectory(atPath: directory + "/stash", withIntermediateDirectories: true)
        try writeFile(atPath: directory + "/outside/secret.png", contents: Data(secret))
        try writeFile(atPath: directory + "/inbox/x.png", contents: Data(own))
        try FileManager.default.createSymbolicLink(
            atPath: directory + "/stash/link.png", withDestinationPath: directory + "/outside/secret.png")
        let name = directory + "/inbox/x.png"
        let stashedFile = directory + "/stash/own.png"
        let stashedLink = directory + "/stash/link.png"
        let stop = Atomic<Bool>(false)
        let finished = Latch()
        let swapper = Thread {
            // Each rename is atomic: the name is the file, missing, the symlink, missing, the file again.
            while !stop.load(ordering: .relaxed) {
                rename(name, stashedFile)
                rename(stashedLink, name)
                rename(name, stashedLink)
                rename(stashedFile, name)
            }
            finished.countDown()
        }
        swapper.start()
        var taken = 0
        var secretSeen = 0
        for _ in 0..<20_000 {
            if let file = ready("x.png", keeping: KeptBytesBudget(limit: 1 << 20)) {
                taken += 1
                if file.sha256 != SHA256Hasher.hex(of: own) || file.bytes != own { secretSeen += 1 }
            }
        }
        stop.store(true, ordering: .relaxed)
        #expect(finished.wait(seconds: 10), "the swapping thread did not stop")
        #expect(secretSeen == 0)
        #expect(taken > 0, "the file itself was never taken while it was there")
    }

    @Test("a path named right in its root has no folder between them")
    func namedInRoot() {
        func named(_ path: String, _ root: String) -> Bool { FileInspector.isNamedInRoot(RawPath(path), RawPath(root)) }
        #expect(named("/srv/drop/a.png", "/srv/drop"))
        #expect(!named("/srv/drop/sub/a.png", "/srv/drop"))
        #expect(!named("/srv/dropped/a.png", "/srv/drop"))
        #expect(!named("/srv/drop/", "/srv/drop"))
        #expect(!named("/srv/drop/..", "/srv/drop"))
        #expect(!named("/srv/drop/.", "/srv/drop"))
        #expect(!named("/srv/drop//a.png", "/srv/drop"))
        #expect(!named("/srv/drop/a.png", "/srv/drop/"))
        #expect(!named("/a.png", "/"))
        #expect(!named("/srv/drop", "/srv/drop"))
    }

    @Test("a file some process holds open for writing waits; one idle for five minutes is taken as done")
    func heldOpenForWriting() throws {
        let path = directory + "/inbox/held.png"
        try writeFile(atPath: path, contents: Data(SampleImages.png(width: 8, height: 8, seed: 3)))
        let inspect = {
            FileInspector.inspect(
                path: RawPath(path), root: RawPath(self.directory + "/inbox"), followSymlinksOutside: false)
        }
        var writer = open(path, O_WRONLY)
        #expect(writer >= 0)
        defer { if writer >= 0 { close(writer) } }
        // The probe answers only where a lease may be taken (the file's owner: this test's own file).
        let reader = open(path, O_RDONLY)
        #expect(WriterProbe.writers(reader) == .writing)
        close(reader)
        guard case .changing = inspect() else {
            Issue.record("a file open for writing was not left to its writer")
            return
        }
        // A writer that has not written for OpenWrites.staleAfterNanos (a program keeping a file open) no
        // longer holds the job: the same rule as the watcher's own open-write hints.
        var times = [timespec(tv_sec: time(nil) - 301, tv_nsec: 0), timespec(tv_sec: time(nil) - 301, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
        guard case .ready = inspect() else {
            Issue.record("a file idle for five minutes was still held back")
            return
        }
        close(writer)
        writer = -1
        let again = open(path, O_RDONLY)
        #expect(WriterProbe.writers(again) == .none)
        close(again)
    }

    @Test("a URL list some process holds open for writing waits for its writer: its last line may be cut")
    func urlListHeldOpen() throws {
        let path = directory + "/inbox/batch.urls"
        try writeFile(atPath: path, contents: Data("https://example.com/1.png\nhttps://exa".utf8))
        let writer = open(path, O_WRONLY | O_APPEND)
        #expect(writer >= 0)
        guard case .changing = URLListFile.read(RawPath(path)) else {
            Issue.record("a list open for writing was read")
            close(writer)
            return
        }
        _ = Array("mple.com/2.png\n".utf8).withUnsafeBytes { write(writer, $0.baseAddress, $0.count) }
        close(writer)
        guard case .ready(let text, _, _) = URLListFile.read(RawPath(path)) else {
            Issue.record("a closed list was not read")
            return
        }
        #expect(text.hasSuffix("https://example.com/2.png\n"))
    }

    @Test("a folder on the way swapped for a symlink to outside the tree is refused")
    func parentSymlinkOutside() throws {
        try writeFile(
            atPath: directory + "/outside/secret.png",
            contents: Data(SampleImages.png(width: 4, height: 4, seed: 2)))
        try FileManager.default.createSymbolicLink(
            atPath: directory + "/inbox/sub", withDestinationPath: directory + "/outside")
        #expect(reason(directory + "/inbox/sub/secret.png")?.contains("symlink leads out of the watched tree") == true)
        #expect(reason(directory + "/inbox/sub/secret.png", follow: true) == nil)
    }

    /// The opened file's path is checked against the root as written first and resolves the root only when
    /// that fails: a watched path that is itself a symlink must still take its files, and still refuse one
    /// that a folder on the way leads out of.
    @Test("a watched path that is a symlink: its files are taken, a folder on the way out of it is refused")
    func rootIsSymlink() throws {
        try writeFile(
            atPath: directory + "/inbox/own.png", contents: Data(SampleImages.png(width: 4, height: 4, seed: 5)))
        try writeFile(
            atPath: directory + "/outside/secret.png", contents: Data(SampleImages.png(width: 4, height: 4, seed: 6)))
        try FileManager.default.createSymbolicLink(
            atPath: directory + "/watched", withDestinationPath: directory + "/inbox")
        try FileManager.default.createSymbolicLink(
            atPath: directory + "/inbox/away", withDestinationPath: directory + "/outside")
        func inspect(_ path: String) -> PreflightResult {
            FileInspector.inspect(
                path: RawPath(directory + "/watched/" + path), root: RawPath(directory + "/watched"),
                followSymlinksOutside: false)
        }
        guard case .ready = inspect("own.png") else {
            Issue.record("a file of a symlinked watch path was refused")
            return
        }
        guard case .rejected(let reason) = inspect("away/secret.png") else {
            Issue.record("a folder leading out of a symlinked watch path was followed")
            return
        }
        #expect(reason.contains("symlink leads out of the watched tree"))
    }

    /// Found by the soak (seed 4): `enqueue` of a folder no longer in `watch.paths` queued a symlink with no
    /// root, and pre-flight let it publish its target from outside every watched folder.
    @Test("a symlink enqueued from outside every watched folder is refused unless symlinks outside are allowed")
    func symlinkWithoutRoot() throws {
        try writeFile(
            atPath: directory + "/outside/target.png",
            contents: Data(SampleImages.png(width: 4, height: 4, seed: 4)))
        try FileManager.default.createDirectory(atPath: directory + "/elsewhere", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: directory + "/elsewhere/link.png", withDestinationPath: directory + "/outside/target.png")
        func inspect(follow: Bool) -> PreflightResult {
            FileInspector.inspect(
                path: RawPath(directory + "/elsewhere/link.png"), root: nil, followSymlinksOutside: follow)
        }
        guard case .rejected(let reason) = inspect(follow: false) else {
            Issue.record("a root-less symlink was accepted")
            return
        }
        #expect(reason.contains("symlink outside every watched folder"))
        guard case .ready = inspect(follow: true) else {
            Issue.record("follow_symlinks_outside = true must allow it")
            return
        }
    }

    @Test("a symlink inside the tree to a file inside the tree is fine")
    func symlinkInside() throws {
        try writeFile(
            atPath: directory + "/inbox/real.png",
            contents: Data(SampleImages.png(width: 4, height: 4, seed: 3)))
        try FileManager.default.createSymbolicLink(
            atPath: directory + "/inbox/link.png", withDestinationPath: directory + "/inbox/real.png")
        #expect(reason(directory + "/inbox/link.png") == nil)
    }

    @Test("a file dated far in the future (year 2603) or the past is read without trapping")
    func farMtime() throws {
        let path = directory + "/inbox/future.png"
        try writeFile(atPath: path, contents: Data(SampleImages.png(width: 4, height: 4, seed: 2)))
        for seconds in [20_000_000_000, -20_000_000_000, Int(Int32.max) * 8] {
            var times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0)]
            guard utimensat(AT_FDCWD, path, &times, 0) == 0 else { continue }  // the filesystem cannot hold it
            guard case .success(let status) = FileStatus.of(RawPath(path)) else {
                Issue.record("stat")
                return
            }
            #expect(abs(status.mtimeNanos) <= 1 << 62)
            guard
                case .ready = FileInspector.inspect(
                    path: RawPath(path), root: RawPath(directory + "/inbox"),
                    followSymlinksOutside: false)
            else {
                Issue.record("inspect")
                return
            }
        }
    }
}
