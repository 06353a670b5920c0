import Glibc
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import Logging

/// Opening the job table at start-up. Another process may hold the database's write lock for a moment
/// (`prune` deleting old jobs, `enqueue` of a big tree, the shared lock `status` takes), so a busy or locked
/// database is waited out for `patienceSeconds` before the start gives up with `Daemon.Exit.transient`, an
/// exit code the unit restarts (unlike 75, another daemon, and 78, a config error, which do not heal).
package struct StartupStore {
    package static let patienceSeconds: Double = 30

    package enum Failure: Error {
        case alreadyRunning(DaemonLock.Held)
        case transient(String)
        /// The database or its folder may not be written by this user: not a config error (the path is
        /// fine), and it heals once the owner/mode is fixed, so the unit keeps restarting it.
        case notWritable(String)
        case permanent(String)

        package var exit: Daemon.Exit {
            switch self {
            case .alreadyRunning: .alreadyRunning
            case .transient: .transient
            case .notWritable: .noPermission
            case .permanent: .config
            }
        }
    }

    package let lock: DaemonLock
    package let store: JobStore
    /// The jobs the daemon before this one held when it died: queued again, or quarantined.
    package let recovery: JobStore.CrashRecovery
    /// The fatal signal the daemon before this one died of (its crash note), if it crashed.
    package let previousCrashSignal: Int32?
    /// What the path named when it was opened; nil only if it vanished in the same instant.
    package let identity: DatabaseIdentity?

    /// Takes the daemon lock, opens (creating or migrating) the table, queues interrupted jobs again and
    /// records this daemon; retries the database part while it is busy.
    /// `failedAfterAction` says what a quarantined job owes its file (`on_failure` of its source).
    package static func open(
        database: String, logger: Logger, patienceSeconds: Double = patienceSeconds,
        failedAfterAction: (Job) -> String? = { _ in nil }
    )
        throws(Failure) -> StartupStore
    {
        let lock: DaemonLock
        do {
            try AtomicFile.makeDirectories(RawPath(database).parent)
            lock = try DaemonLock(database: database)
        } catch let held as DaemonLock.Held {
            throw .alreadyRunning(held)
        } catch let error as SystemError where error.errno == EACCES || error.errno == EROFS || error.errno == EPERM {
            throw .notWritable(
                "cannot write next to database \(database): \(error): check the owner/mode of "
                    + "\(RawPath(database).parent.display) (this process runs as uid \(getuid()))")
        } catch {
            throw .permanent("config error: queue.database: cannot open \(database): \(error)")
        }
        let deadline = Timestamp.monotonicNanos() + UInt64(patienceSeconds * 1e9)
        var waiting = false
        while true {
            do {
                let store = try JobStore(path: database)
                let recovery = try store.recoverAfterCrash(
                    crashed: lock.previousCrashSignal != nil,
                    failedAfterAction: failedAfterAction)
                try store.recordDaemonStart(
                    pid: Int(getpid()), host: Daemon.hostname(), version: ImagedropVersion.current)
                if waiting { logger.notice("database free again; starting") }
                lock.clearCrashNote()
                lock.journalCrashes()
                return StartupStore(
                    lock: lock, store: store, recovery: recovery,
                    previousCrashSignal: lock.previousCrashSignal, identity: DatabaseIdentity(path: database))
            } catch let error as SQLiteError where isTransient(error) {
                guard Timestamp.monotonicNanos() < deadline else {
                    throw .transient(
                        "database \(database) stayed busy for \(Int(patienceSeconds)) s: \(error); exiting for a restart"
                    )
                }
                if !waiting {
                    waiting = true
                    logger.warning(
                        "database is busy (another process holds its lock); waiting",
                        metadata: [
                            "database": "\(database)", "patience_s": "\(Int(patienceSeconds))", "error": "\(error)",
                        ])
                }
                sleepMillis(200)  // each try already waited busy_timeout; this only avoids spinning on an instant error
            } catch let error as SQLiteError where error.isNotWritable {
                throw .notWritable("\(error)")
            } catch {
                throw .permanent("config error: queue.database: cannot open \(database): \(error)")
            }
        }
    }

    /// Conditions that pass on their own: a lock held by another process, a full or failing disk.
    package static func isTransient(_ error: SQLiteError) -> Bool {
        [.busy, .diskFull, .ioError].contains(error.kind)
    }
}
