import ImagedropSystem

extension JobStore {
    /// The daemon's ETA for the backlog (BacklogETA), written with each heartbeat so `status` and the page show
    /// the figure the progress line shows, not one of their own from the table alone.
    package func recordBacklogETA(_ seconds: Int?) throws {
        try execute("UPDATE daemon SET eta_s = ?1 WHERE id = 1") { statement in statement.bind(1, seconds) }
    }

    static func backlogETA(_ db: Database) throws -> Int? {
        let statement = try db.cached("SELECT eta_s FROM daemon WHERE id = 1")
        return try statement.step() ? statement.optionalInt(0) : nil
    }
}
