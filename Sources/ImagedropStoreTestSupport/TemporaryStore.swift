import ImagedropStore
import ImagedropTestSupport

/// A real job table on a real SQLite file in a fresh temporary folder: the fixture of every test that reads or
/// writes jobs. The folder (and the database in it) goes away with the fixture.
package final class TemporaryStore: Sendable {
    package let folder: TemporaryFolder
    package let store: JobStore
    package var directory: String { folder.path }
    package var database: String { folder.database }

    package init(_ prefix: String = "imagedrop-store") throws {
        folder = try TemporaryFolder(prefix)
        store = try JobStore(path: folder.database)
    }
}

/// Runs `body` with a fresh job table in a fresh temporary folder, removed when the body returns or throws.
package func withTemporaryStore<Result>(
    _ prefix: String = "imagedrop-store", _ body: (TemporaryStore) throws -> Result
) throws -> Result {
    let temporary = try TemporaryStore(prefix)
    return try withExtendedLifetime(temporary) { try body(temporary) }
}
