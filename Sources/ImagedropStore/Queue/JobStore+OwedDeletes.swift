import ImagedropSupport
import ImagedropSystem
import Synchronization

/// An image the API stored that must go (an upload that sent mixed bytes of two versions of a file): owed
/// like the after-upload actions, committed before the job moves on, retried until the API confirms it.
package struct OwedDelete: Sendable, Equatable {
    package var imageID: String
    package var jobID: Int64?
    package var reason: String
    package var attempts: Int
    package var lastError: String?
}

/// `owed_deletes`: the job that owes a delete is not claimed until the delete is settled, so its next upload
/// (under a path id, the same id) can never be deleted by it.
extension JobStore {
    package func oweDelete(imageID: String, jobID: Int64?, reason: String) throws {
        try execute(
            """
            INSERT INTO owed_deletes (image_id, job_id, reason, created_at) VALUES (?1, ?2, ?3, ?4)
            ON CONFLICT (image_id) DO UPDATE SET job_id = excluded.job_id, next_attempt_at = 0, lease_until = NULL
            """
        ) { statement in
            statement.bind(1, imageID).bind(2, jobID).bind(3, reason).bind(4, Timestamp.nowISO8601())
        }
        noOwedDeleteBefore.store(0, ordering: .releasing)
    }

    /// Takes the next due delete and leases it, in one statement (two workers never send the same DELETE).
    package func claimOwedDelete(leaseMillis: Int64) throws -> OwedDelete? {
        let now = Timestamp.nowMillis()
        if now < noOwedDeleteBefore.load(ordering: .acquiring) { return nil }
        let claimed = try withDatabase { db -> OwedDelete? in
            let statement = try db.cached(
                """
                UPDATE owed_deletes SET lease_until = ?1
                WHERE image_id = (SELECT image_id FROM owed_deletes
                                  WHERE next_attempt_at <= ?2 AND (lease_until IS NULL OR lease_until < ?2)
                                  ORDER BY next_attempt_at LIMIT 1)
                RETURNING image_id, job_id, reason, attempts, last_error
                """)
            statement.bind(1, now + leaseMillis).bind(2, now)
            guard try statement.step() else { return nil }
            let owed = OwedDelete(
                imageID: statement.string(0) ?? "", jobID: statement.optionalInt64(1),
                reason: statement.string(2) ?? "", attempts: statement.int(3),
                lastError: statement.string(4))
            _ = try statement.step()
            return owed
        }
        if claimed == nil { noOwedDeleteBefore.store(now + 1000, ordering: .releasing) }
        return claimed
    }

    /// The API confirmed the image is gone (or gave up on it): the job that waited may go on.
    package func settleOwedDelete(imageID: String) throws {
        try execute("DELETE FROM owed_deletes WHERE image_id = ?1") { statement in statement.bind(1, imageID) }
    }

    /// Not confirmed: try again at `nextAttemptAtMillis` (a refused token: as soon as the queue resumes).
    package func postponeOwedDelete(
        imageID: String, error: String?, nextAttemptAtMillis: Int64, countAttempt: Bool
    ) throws {
        try execute(
            """
            UPDATE owed_deletes SET lease_until = NULL, next_attempt_at = ?2, attempts = attempts + ?3,
                   last_error = COALESCE(?4, last_error)
            WHERE image_id = ?1
            """
        ) { statement in
            statement.bind(1, imageID).bind(2, nextAttemptAtMillis).bind(3, countAttempt ? 1 : 0).bind(4, error)
        }
        noOwedDeleteBefore.store(0, ordering: .releasing)
    }

    /// At start-up: leases held by a daemon that died are void, and what was owed is tried at once.
    @discardableResult
    package func recoverOwedDeletes() throws -> Int {
        defer { noOwedDeleteBefore.store(0, ordering: .releasing) }
        return try executeCountingChanges(
            """
            UPDATE owed_deletes SET lease_until = NULL, next_attempt_at = MIN(next_attempt_at, ?1)
            WHERE lease_until IS NOT NULL OR next_attempt_at > ?1
            """
        ) { statement in statement.bind(1, Timestamp.nowMillis()) }
    }

    package func owedDeletes() throws -> [OwedDelete] {
        try withDatabase { db in
            let statement = try db.prepare(
                "SELECT image_id, job_id, reason, attempts, last_error FROM owed_deletes ORDER BY created_at")
            var result: [OwedDelete] = []
            while try statement.step() {
                result.append(
                    OwedDelete(
                        imageID: statement.string(0) ?? "", jobID: statement.optionalInt64(1),
                        reason: statement.string(2) ?? "", attempts: statement.int(3),
                        lastError: statement.string(4)))
            }
            return result
        }
    }
}
