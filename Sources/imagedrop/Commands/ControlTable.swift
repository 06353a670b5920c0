import ArgumentParser
import Glibc
import ImagedropSystem
import ImagedropStore
import ImagedropPipeline
import ImagedropDaemon

/// What `pause` and `resume` write to: the table the config names, for a command that must work whether a
/// daemon runs or not, and while the config file is broken (it needs only the database's path).
enum ControlTable {
    /// Opens the table for writing, creating it (not its folder: a folder that does not exist is a typo to
    /// report, 65) so a pause can be set before the first start. 77 when this user may not write it.
    static func open(_ database: String) throws -> JobStore {
        let folder = RawPath(database).parent
        guard case .success(let status) = FileStatus.of(folder), status.isDirectory else {
            Console.error("cannot write database \(database): its folder \(folder.display) does not exist: check queue.database")
            throw ExitCode(Daemon.Exit.noInput.rawValue)
        }
        do {
            return try JobStore(path: database)
        } catch let error as SQLiteError where error.isNotWritable {
            Console.error("\(error)")
            throw ExitCode(Daemon.Exit.noPermission.rawValue)
        } catch {
            Console.error("cannot write database \(database): \(error)")
            throw ExitCode(Daemon.Exit.noInput.rawValue)
        }
    }

    /// Who will act on the change: "the running daemon (pid N) …" or "no daemon runs …".
    static func daemonNote(_ database: String, whenRunning: String, whenNot: String) -> String {
        let probe = DaemonLock.probe(database: database)
        guard probe.running else { return whenNot }
        return "the running daemon (pid \(probe.pid.map(String.init) ?? "?")) \(whenRunning)"
    }
}
