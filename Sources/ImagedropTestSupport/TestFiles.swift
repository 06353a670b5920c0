import Foundation

/// Writes a test's file or throws naming it. `FileManager.createFile` returns false on failure and the tests
/// ignored it (33 call sites, a warning each), so a file that was never written went unnoticed until some later
/// expectation failed for a reason nobody could see. Atomic, as `createFile` is: the watcher sees a rename-in.
package func writeFile(atPath path: String, contents: Data?) throws {
    do {
        try (contents ?? Data()).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        throw TestFileError(description: "cannot write \(path): \(error.localizedDescription)")
    }
}

package struct TestFileError: Error, CustomStringConvertible {
    package let description: String
}
