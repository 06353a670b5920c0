import ImagedropStore
import ImagedropSystem

extension FileCandidate {
    /// A file `name` seen under the watch root `/drop` (which need not exist: the job table only records paths).
    package static func inDrop(_ name: String, size: Int = 100, mtime: Int64 = 1_000) -> FileCandidate {
        FileCandidate(path: RawPath("/drop/" + name), root: RawPath("/drop"), size: size, mtimeNanos: mtime)
    }
}
