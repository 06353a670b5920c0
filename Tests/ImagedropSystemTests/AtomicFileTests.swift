import Foundation
import Glibc
import Testing

@testable import ImagedropSystem

@Suite("Atomic files that never replace")
struct AtomicFileTests {
    @Test("writeNew gives the file its final name at birth (inotify sees no other name), and never replaces")
    func writeNewMakesNoTemporaryName() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "imagedrop-atomic-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let inotify = try Inotify()
        _ = try inotify.addWatch(RawPath(folder), mask: UInt32(IN_CREATE | IN_MOVED_TO))
        let target = RawPath(folder + "/IMG_0001.JPG.error.json")
        #expect(try AtomicFile.writeNew(Array("first\n".utf8), to: target))
        #expect(try !AtomicFile.writeNew(Array("second\n".utf8), to: target))
        #expect(AtomicFile.read(target, limit: 1024) == Array("first\n".utf8))
        // A temporary name (the temp-and-rename way) is what a kill -9 between write and rename leaves in
        // done_dir/failed_dir for good; a file linked into place from O_TMPFILE never had one.
        let names = Set(inotify.readEvents().map { String(decoding: $0.name, as: UTF8.self) })
        #expect(names == ["IMG_0001.JPG.error.json"], "names seen: \(names)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["IMG_0001.JPG.error.json"])
    }

    @Test(
        "a copy for a move to another filesystem has no name until it is linked as the final one, with the original's mtime"
    )
    func copyIsUnnamedUntilLinked() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "imagedrop-atomic-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: folder + "/done", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let source = RawPath(folder + "/cam.jpg")
        try Data("the bytes".utf8).write(to: URL(fileURLWithPath: source.display))
        let done = RawPath(folder + "/done")
        let copy = try #require(try AtomicFile.copyUnnamed(source, in: done), "this machine's /tmp has O_TMPFILE")
        // The moment a kill -9 could strike: the copy is complete, and done_dir still holds nothing.
        #expect(try FileManager.default.contentsOfDirectory(atPath: done.display) == [])
        let target = done.appending("cam.jpg")
        try Data("someone else's".utf8).write(to: URL(fileURLWithPath: done.display + "/taken.jpg"))
        #expect(try !copy.link(to: done.appending("taken.jpg")), "a taken name is never replaced")
        #expect(try copy.link(to: target))
        #expect(AtomicFile.read(target, limit: 1024) == Array("the bytes".utf8))
        #expect(try FileStatus.of(target).get().mtimeNanos == FileStatus.of(source).get().mtimeNanos)
    }
}
