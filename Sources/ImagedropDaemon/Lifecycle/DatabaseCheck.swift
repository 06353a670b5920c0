import Glibc
import ImagedropStore
import ImagedropSystem

/// `check`'s look at `queue.database`, without creating anything: the folder must exist (a typo is reported,
/// not made), and the daemon's user must be able to write the file — or create it, when there is none yet —
/// and the -wal/-shm files beside it. An existing table is opened for writing (so check's API requests are
/// recorded in the shared budget); a missing one is left for `run` to create.
package struct DatabaseCheck {
    package let database: String

    package struct Failure: Error {
        package let problem: String
        /// Permission (77), as opposed to a wrong path (78).
        package let isPermission: Bool
    }

    package struct Opened {
        package let store: JobStore?
        package let summary: String
    }

    package func run() -> Result<Opened, Failure> {
        let folder = RawPath(database).parent.display
        let user = "uid \(getuid())"
        switch FileStatus.of(RawPath(folder)) {
        case .failure(let error):
            return .failure(
                Failure(
                    problem: "folder \(folder) does not exist (\(error.message)): fix the path, or create "
                        + "the folder owned by the daemon's user (check creates nothing)", isPermission: false))
        case .success(let status) where !status.isDirectory:
            return .failure(Failure(problem: "\(folder) is not a folder", isPermission: false))
        case .success:
            break
        }
        let folderWritable = access(folder, W_OK | X_OK) == 0
        guard case .success(let status) = FileStatus.of(RawPath(database)) else {
            guard folderWritable else {
                return .failure(
                    Failure(
                        problem: "\(database) does not exist and \(user) may not create it: check the owner/mode "
                            + "of \(folder)", isPermission: true))
            }
            return .success(
                Opened(store: nil, summary: "\(database) not created yet (run creates it; \(folder) is writable) OK"))
        }
        guard status.isRegular else {
            return .failure(
                Failure(problem: "\(database) is a \(status.kindName), not a database file", isPermission: false))
        }
        guard access(database, R_OK | W_OK) == 0 else {
            return .failure(
                Failure(
                    problem: "database \(database) is read-only for \(user): check the owner/mode of \(database)",
                    isPermission: true))
        }
        // SQLite creates the -wal and -shm files next to the database when they are missing.
        for suffix in ["-wal", "-shm"] {
            let side = database + suffix
            let exists = access(side, F_OK) == 0
            if exists ? access(side, R_OK | W_OK) != 0 : !folderWritable {
                let what =
                    exists
                    ? "\(side) is read-only for \(user): check its owner/mode"
                    : "\(user) may not create \(side): check the owner/mode of \(folder)"
                return .failure(
                    Failure(problem: "database \(database) could not be written: \(what)", isPermission: true))
            }
        }
        do {
            let store = try JobStore(path: database)
            let counts = try store.snapshot(failureLimit: 0)
            return .success(Opened(store: store, summary: "\(database) OK (\(counts.total) jobs)"))
        } catch let error as SQLiteError {
            return .failure(Failure(problem: "\(error)", isPermission: error.isNotWritable))
        } catch {
            return .failure(Failure(problem: "cannot open \(database): \(error)", isPermission: false))
        }
    }
}
