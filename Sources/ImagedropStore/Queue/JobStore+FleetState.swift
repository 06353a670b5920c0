import ImagedropSystem

extension JobStore {
    /// Whether this host's fleet budget goes on alone (the reason) or shares Redis's (nil), written with each
    /// heartbeat: `status` reads the table, not the daemon.
    package func recordFleetDegraded(_ reason: String?) throws {
        try execute("UPDATE daemon SET fleet_degraded = ?1 WHERE id = 1") { statement in statement.bind(1, reason) }
    }

    static func fleetDegraded(_ db: Database) throws -> String? {
        let statement = try db.cached("SELECT fleet_degraded FROM daemon WHERE id = 1")
        return try statement.step() ? statement.string(0) : nil
    }
}
