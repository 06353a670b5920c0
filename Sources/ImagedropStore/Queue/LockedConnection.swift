import ImagedropSupport
import ImagedropSystem
import Synchronization

/// The one owner of a process's read-write SQLite connection: the connection can only be reached through
/// `withLock`, so every use is serialised by the Mutex. (A `Mutex<Database>` cannot express this: handing the
/// connection to the caller's closure merges it into the caller's region, which Swift's checker refuses.)
package final class LockedConnection: @unchecked Sendable {
    // @unchecked: `database` is private and read only inside `lock.withLock`; nothing else can reach it.
    private let lock = Mutex(())
    private let database: Database

    package init(_ database: Database) { self.database = database }

    package func withLock<T>(_ body: (Database) throws -> T) throws -> T {
        try lock.withLock { _ in try body(database) }
    }
}
