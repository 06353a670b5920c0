import ImagedropSupport
import ImagedropSystem

/// `imagedrop pause [--reason TEXT]`: the operator's own pause of this host's queue. It lives in the table, not in
/// the daemon, so it holds whether a daemon runs or not and across restarts, until `imagedrop resume`; the
/// running daemon reads it every turn of its main loop.
package struct OperatorPause: Sendable, Equatable {
    /// When it was asked for (ISO-8601 UTC, `…Z`).
    package var at: String
    package var reason: String?

    package init(at: String, reason: String?) {
        self.at = at
        self.reason = reason
    }

    /// What `status` shows as `daemon.paused`: `paused by operator: TEXT`, or `paused by operator` without one.
    package var text: String { "paused by operator" + (reason.map { ": \($0)" } ?? "") }
}

extension JobStore {
    /// Pauses (a reason, possibly nil) or resumes (`pause` false). Returns the pause that was in force before.
    @discardableResult
    package func setOperatorPause(_ pause: Bool, reason: String? = nil) throws -> OperatorPause? {
        try withDatabase { db in
            try db.transaction {
                let before = try Self.operatorPause(db)
                let update = try db.cached(
                    "UPDATE daemon SET operator_paused_at = ?1, operator_pause_reason = ?2 WHERE id = 1")
                update.bind(1, pause ? Timestamp.nowISO8601() : nil).bind(2, pause ? reason : nil)
                try update.run()
                return before
            }
        }
    }

    /// The operator's pause in force, nil when none (or on a table from before `imagedrop pause`).
    package func operatorPause() throws -> OperatorPause? {
        try withDatabase { db in try Self.hasColumn(db, "operator_paused_at") ? Self.operatorPause(db) : nil }
    }

    static func operatorPause(_ db: Database) throws -> OperatorPause? {
        let statement = try db.cached("SELECT operator_paused_at, operator_pause_reason FROM daemon WHERE id = 1")
        guard try statement.step(), let at = statement.string(0) else { return nil }
        return OperatorPause(at: at, reason: statement.string(1))
    }
}
