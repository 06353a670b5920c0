import Foundation
import Glibc
import ImagedropParsing
import ImagedropTestSupport
import Testing

@testable import ImagedropPipeline
@testable import ImagedropStore
@testable import ImagedropSystem

/// The preparer's hand-off: oldest first, bounded, and a taken entry is let go at once — it holds the
/// job's open file, so one kept in the queue's storage until the queue ran empty leaked descriptors under
/// sustained load.
@Suite("Prepared uploads")
struct PreparedUploadsTests {
    /// A prepared upload over a real open file; returns it and the descriptor it owns.
    static func entry(_ id: Int64, in directory: String) throws -> (JobProcessor.Attempt, Int32) {
        let path = directory + "/\(id).png"
        try writeFile(atPath: path, contents: Data([0x89, 0x50, 0x4E, 0x47]))
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        #expect(fd >= 0)
        guard case .success(let status) = FileStatus.of(fileDescriptor: fd) else { throw SystemError(call: "fstat") }
        let file = InspectedFile(
            fileDescriptor: fd, status: status, sha256: String(repeating: "0", count: 64),
            info: ImageInfo(format: .png))
        let job = Job(
            id: id, path: RawPath(path), root: RawPath(directory), state: .uploading, attempts: 0, variants: [],
            jobKey: "k\(id)", nextAttemptAtMillis: 0, createdAt: "", updatedAt: "")
        let config = Config()
        guard
            case .upload(let plan) = UploadPlan.make(
                job: job, file: .init(hashedOrPending: file.sha256), settings: .init(config))
        else {
            throw SystemError(call: "plan")
        }
        return (JobProcessor.Attempt(job: job, config: config, file: file, plan: plan), fd)
    }

    /// Whether `fd` still is this test's file. A closed number is soon reused: the suites run in parallel, and
    /// another test's next `open` takes the lowest free one, so "open" is judged by the file it names (device and
    /// inode of a file only this test opens), not by the number alone.
    static func isOpen(_ fd: Int32, _ file: (dev: UInt, ino: UInt)) -> Bool {
        var status = stat()
        guard fstat(fd, &status) == 0 else { return false }
        return UInt(status.st_dev) == file.dev && UInt(status.st_ino) == file.ino
    }

    static func identity(_ fd: Int32) -> (dev: UInt, ino: UInt) {
        var status = stat()
        _ = fstat(fd, &status)
        return (UInt(status.st_dev), UInt(status.st_ino))
    }

    @Test("oldest first; a taken entry's file is closed once the taker is done, though others still wait")
    func takenEntriesAreReleased() throws {
        let directory = NSTemporaryDirectory() + "prepared-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let queue = PreparedUploads()
        var descriptors: [Int64: Int32] = [:]
        var files: [Int64: (dev: UInt, ino: UInt)] = [:]
        for id in Int64(1)...3 {
            let (ready, fd) = try Self.entry(id, in: directory)
            queue.put(ready)
            descriptors[id] = fd
            files[id] = Self.identity(fd)
        }
        #expect(queue.count == 3)
        #expect(!queue.waitForRoom(below: 3, timeoutSeconds: 0.01), "full at depth 3")
        do {
            let first = try #require(queue.take())
            #expect(first.job.id == 1)
        }
        // Taken and dropped while two others still wait: nothing keeps the first file open.
        #expect(!Self.isOpen(descriptors[1]!, files[1]!), "the taken entry's descriptor is closed")
        #expect(Self.isOpen(descriptors[2]!, files[2]!) && Self.isOpen(descriptors[3]!, files[3]!))
        #expect(queue.waitForRoom(below: 3, timeoutSeconds: 0.01))
        var fd4: Int32 = -1
        var file4 = (dev: UInt(0), ino: UInt(0))
        do {
            let (fourth, fd) = try Self.entry(4, in: directory)
            queue.put(fourth)
            fd4 = fd
            file4 = Self.identity(fd)
        }
        #expect(queue.take()?.job.id == 2)
        #expect(!Self.isOpen(descriptors[2]!, files[2]!))
        let rest = queue.takeAll().map(\.job.id)
        #expect(rest == [3, 4] && queue.count == 0)
        #expect(!Self.isOpen(descriptors[3]!, files[3]!) && !Self.isOpen(fd4, file4))
    }
}
