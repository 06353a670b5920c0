import ImagedropStore
import ImagedropSystem
import ImagedropTestSupport

extension FileCandidate {
    /// A file `name` seen under the watch root `/drop` (which need not exist: the job table only records paths).
    package static func inDrop(_ name: String, size: Int = 100, mtime: Int64 = 1_000) -> FileCandidate {
        FileCandidate(path: RawPath("/drop/" + name), root: RawPath("/drop"), size: size, mtimeNanos: mtime)
    }
}

extension JobStore {
    /// A job table in `folder` with a queued file under `/drop` for each name.
    package static func withDropFiles(_ names: [String], in folder: TemporaryFolder) throws -> JobStore {
        let store = try JobStore(path: folder.database)
        try store.enqueueInDrop(names)
        return store
    }

    /// Queues a file under `/drop` for each name, as one scan would.
    @discardableResult
    package func enqueueInDrop(_ names: [String]) throws -> [EnqueueResult] {
        try enqueue(names.map { FileCandidate.inDrop($0) })
    }
}
