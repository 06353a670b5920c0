import ImagedropSupport
import ImagedropSystem

/// The account's image quota (`result.count` of `…/images/v1/stats`) as last read, with when.
package struct AccountQuota: Sendable, Equatable {
    package var allowed: Int
    package var current: Int
    /// ISO-8601 UTC ending in `Z`.
    package var checkedAt: String

    package init(allowed: Int, current: Int, checkedAt: String) {
        self.allowed = allowed
        self.current = current
        self.checkedAt = checkedAt
    }

    package var isFull: Bool { current >= allowed }
    package var jsonObject: [String: Any] { ["allowed": allowed, "current": current, "checked_at": checkedAt] }
}

extension JobStore {
    package func recordQuota(allowed: Int, current: Int) throws {
        try execute(
            """
            INSERT INTO account_quota (id, allowed, current, checked_at) VALUES (1, ?1, ?2, ?3)
            ON CONFLICT (id) DO UPDATE SET allowed = excluded.allowed, current = excluded.current,
                                           checked_at = excluded.checked_at
            """
        ) { statement in
            statement.bind(1, allowed).bind(2, current).bind(3, Timestamp.nowISO8601())
        }
    }

    /// nil until a daemon has read the stats (or on a table from before the quota was kept).
    package func accountQuota() throws -> AccountQuota? {
        try withDatabase { db in
            let exists = try db.cached("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'account_quota'")
            guard try exists.step() else { return nil }
            exists.reset()
            let select = try db.cached("SELECT allowed, current, checked_at FROM account_quota WHERE id = 1")
            guard try select.step() else { return nil }
            return AccountQuota(allowed: select.int(0), current: select.int(1), checkedAt: select.string(2) ?? "")
        }
    }
}
