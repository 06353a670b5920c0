import ImagedropSupport
import ImagedropSystem

/// A SIGHUP whose config the daemon refused: the old config stays in force, which the log says once and
/// `status` must keep saying — an operator who edited the file believes it applied until told otherwise.
package struct ReloadRefusal: Sendable, Equatable {
    /// When it was refused (ISO-8601 UTC, `…Z`).
    package var at: String
    /// The config error as "key: problem" (or the problem alone when it names no key).
    package var error: String

    package init(at: String, error: String) {
        self.at = at
        self.error = error
    }
}

extension JobStore {
    /// Records a refused reload, or (nil) that the config in force is the file on disk again: a good reload,
    /// or a start, which loads the file whole or not at all.
    package func recordReloadRefused(_ error: String?) throws {
        try execute("UPDATE daemon SET reload_refused_at = ?1, reload_refused_error = ?2 WHERE id = 1") { statement in
            statement.bind(1, error.map { _ in Timestamp.nowISO8601() }).bind(2, error)
        }
    }

    static func reloadRefusal(_ db: Database) throws -> ReloadRefusal? {
        let statement = try db.cached("SELECT reload_refused_at, reload_refused_error FROM daemon WHERE id = 1")
        guard try statement.step(), let at = statement.string(0) else { return nil }
        return ReloadRefusal(at: at, error: statement.string(1) ?? "")
    }
}
