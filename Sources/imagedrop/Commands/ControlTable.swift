import ArgumentParser
import Glibc
import ImagedropDaemon
import ImagedropStore
import ImagedropSystem

/// What `pause` and `resume` write to: the table the config names, for a command that must work whether a
/// daemon runs or not, and while the config file is broken (it needs only the database's path).
enum ControlTable {
    /// Opens the table for writing, creating it (not its folder: a folder that does not exist is a typo to
    /// report, 65) so a pause can be set before the first start. 77 when this user may not write it.
    static func open(_ database: String) throws -> JobStore {
        let folder = RawPath(database).parent
        guard case .success(let status) = FileStatus.of(folder), status.isDirectory else {
            Console.error(
                "cannot write database \(database): its folder \(folder.display) does not exist: check queue.database")
            throw ExitCode(Daemon.Exit.noInput.rawValue)
        }
        let creating = access(database, F_OK) != 0
        do {
            let store = try JobStore(path: database)
            if creating { giveToFolderOwner(database, folder: folder) }
            return store
        } catch let error as SQLiteError where error.isNotWritable {
            Console.error("\(error)")
            throw ExitCode(Daemon.Exit.noPermission.rawValue)
        } catch {
            Console.error("cannot write database \(database): \(error)")
            throw ExitCode(Daemon.Exit.noInput.rawValue)
        }
    }

    /// `sudo imagedrop pause` before the daemon's first start creates the table as root; the daemon (the
    /// unit's `imagedrop` user, which owns its StateDirectory) could then not write it and would exit 77. The new
    /// files go to the folder's owner, as the daemon would have created them.
    private static func giveToFolderOwner(_ database: String, folder: RawPath) {
        var info = stat()
        guard geteuid() == 0, folder.withCString({ stat($0, &info) }) == 0, info.st_uid != 0 || info.st_gid != 0 else {
            return
        }
        for path in [database, database + "-wal", database + "-shm"] where access(path, F_OK) == 0 {
            _ = chown(path, info.st_uid, info.st_gid)
        }
    }

    /// Who will act on the change: "the running daemon (pid N) …" or "no daemon runs …".
    static func daemonNote(_ database: String, whenRunning: String, whenNot: String) -> String {
        let probe = DaemonLock.probe(database: database)
        guard probe.running else { return whenNot }
        return "the running daemon (pid \(probe.pid.map(String.init) ?? "?")) \(whenRunning)"
    }
}
