import Glibc
import ImagedropSystem

extension JobStore {
    /// Opens the table for a reader, read-only. nil means there is no table yet — and only that: its folder
    /// exists and the file does not (the daemon or `enqueue` creates it). Everything else that stands between
    /// the reader and the rows is a `TableReadError`: a folder that does not exist, a file, side file or
    /// folder this user may not read, a file that is not a table imagedrop wrote.
    package static func openForReading(_ database: String) throws(TableReadError) -> JobStore? {
        let file = RawPath(database)
        let folder = file.parent.display
        switch FileStatus.of(file) {
        case .failure(let error) where error.errno == ENOENT:
            switch FileStatus.of(file.parent) {
            case .success(let status) where status.isDirectory:
                return nil
            case .success:
                throw TableReadError(.unreadable, database: database, reason: "\(folder) is not a folder")
            case .failure(let error) where error.errno == EACCES:
                throw TableReadError.permission(database: database, path: folder)
            case .failure:
                throw TableReadError(
                    .missingFolder, database: database,
                    reason: """
                        its folder \(folder) does not exist: check queue.database (a typo, or the state folder was never made)
                        """)
            }
        case .failure(let error) where error.errno == ENOTDIR:
            throw TableReadError(
                .missingFolder, database: database, reason: "a part of its folder \(folder) is not a folder")
        case .failure(let error) where error.errno == EACCES:
            // A folder on the way may not be entered: whether the file exists cannot even be known.
            throw TableReadError.permission(database: database, path: folder)
        case .failure(let error):
            throw TableReadError(.unreadable, database: database, reason: "\(error)")
        case .success(let status) where !status.isRegular:
            throw TableReadError(
                .unreadable, database: database, reason: "it is a \(status.kindName), not a database file")
        case .success:
            break
        }
        // Before SQLite, whose "unable to open database file" does not say which file or why. Asked with
        // access(2), never by opening: closing any descriptor of a file drops every POSIX lock the process holds
        // on it, and the daemon reads its status page through here — its SQLite connection's shared lock on the
        // -shm file went, the next reader of another process (`imagedrop status`) took itself for the first and
        // truncated the -shm, and the daemon died of SIGBUS in SQLite (HTTPEndpointTests.unixSocketActions).
        for path in [database, database + "-wal", database + "-shm"] where access(path, F_OK) == 0 {
            guard access(path, R_OK) != 0 else { continue }
            let error = SystemError(call: "access \(path)")
            // A -wal or -shm the daemon removed as it closed, between the two calls: nothing left to read.
            if error.errno == ENOENT { continue }
            if error.errno == EACCES || error.errno == EPERM {
                throw TableReadError.permission(database: database, path: path)
            }
            throw TableReadError(.unreadable, database: database, reason: "\(error)")
        }
        do {
            let store = try JobStore(path: database, readOnly: true)
            // The open is lazy: this is the first read of the file's header (a file that is not a database
            // fails here), and a file with no schema is an empty or foreign SQLite file, not "no jobs".
            guard try store.withDatabase({ try $0.userVersion }) > 0 else {
                throw TableReadError(
                    .unreadable, database: database, reason: "it holds no job table (not a database imagedrop wrote)")
            }
            return store
        } catch {
            throw TableReadError.classify(error, database: database)
        }
    }
}
