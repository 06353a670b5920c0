import ImagedropSupport
import ImagedropSystem

/// The one owner of a process's read-write SQLite connection: the connection can only be reached through
/// `withLock`, so every use is serialised by the lock. (A `Mutex<Database>` cannot express this: handing the
/// connection to the caller's closure merges it into the caller's region, which Swift's checker refuses.)
///
/// A pthread mutex (MonotonicCondition's), not Synchronization's Mutex: a dozen workers queue here for every claim and
/// write-back, and Mutex's slow path spins before it sleeps — on two cores that spinning was 4 % of the
/// daemon's CPU, burnt while the holder waited for a core.
package final class LockedConnection: @unchecked Sendable {
    // @unchecked: `database` is private and read only while `lock` is held; nothing else can reach it.
    private let lock = MonotonicCondition()
    private let database: Database

    package init(_ database: Database) { self.database = database }

    package func withLock<T>(_ body: (Database) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(database)
    }
}
