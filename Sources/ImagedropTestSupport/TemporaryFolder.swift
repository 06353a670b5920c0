import Foundation
import Glibc

/// A fresh folder (under /tmp unless told) for one test, removed with everything in it when the fixture goes away. Fixture
/// classes hold one (their `deinit` runs at the end of the test); a test that needs nothing else uses
/// `withTemporaryFolder`, which removes the folder as soon as the body returns or throws.
package final class TemporaryFolder: Sendable {
    package let path: String
    /// Where a test keeps its job table: the file does not exist until something opens it.
    package var database: String { path + "/jobs.sqlite3" }

    /// `prefix` names the folder (`<parent>/<prefix>-XXXXXX`), so a folder a crashed test left behind says whose it
    /// is; `parent` is another filesystem when a test needs one (/dev/shm).
    package init(_ prefix: String = "imagedrop-test", in parent: String = "/tmp") throws {
        var template = "\(parent)/\(prefix)-XXXXXX".utf8CString
        guard let created = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw TestFileError(
                description: "cannot create a temporary folder in \(parent): \(String(cString: strerror(errno)))")
        }
        path = String(cString: created)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// `path` + "/" + `relative`.
    package func appending(_ relative: String) -> String { path + "/" + relative }
}

/// Runs `body` with a fresh temporary folder, removed when it returns or throws.
package func withTemporaryFolder<Result>(
    _ prefix: String = "imagedrop-test", _ body: (TemporaryFolder) throws -> Result
) throws -> Result {
    let folder = try TemporaryFolder(prefix)
    return try withExtendedLifetime(folder) { try body(folder) }
}
