import ImagedropSupport
import ImagedropSystem

/// One outbox row: a job outcome to tell the webhook about, with the id it is always delivered under.
package struct WebhookDelivery: Sendable, Equatable {
    package var id: Int64
    package var jobID: Int64
    package var event: String
    package var deliveryID: String
    /// The job as the outcome left it (the trigger's `json_object`), `source` included: nothing of a delivery
    /// is read from `jobs` when it is sent, so `prune` removing the job's row changes nothing it says.
    package var jobJSON: String
    package var at: String
    package var attempts: Int
    /// The job's source name, as captured with the outcome.
    package var source: String
}

package struct WebhookBacklog: Sendable, Equatable {
    package var pending = 0
    package var dead = 0
    package var lastDeadError: String?
    package init() {}
}

/// The outbox. Rows are written by the schema's triggers with each outcome; the sender here reads them in
/// order and deletes each one the receiver accepted.
extension JobStore {
    /// Tells the triggers which outcomes to record (the running daemon's `[webhook] events`; none when off).
    package func configureWebhookEvents(_ events: [Config.Webhook.Event]) throws {
        try withDatabase { db in
            try db.transaction {
                try db.execute("DELETE FROM webhook_events")
                let insert = try db.cached("INSERT OR IGNORE INTO webhook_events (event) VALUES (?1)")
                for event in events {
                    insert.reset()
                    insert.bind(1, event.rawValue)
                    try insert.run()
                }
            }
        }
    }

    /// The next delivery that may go out now: due, and the oldest pending one of its job (a job's outcomes
    /// are delivered in the order they happened; a dead one does not hold the later ones back).
    package func nextWebhookDelivery(nowMillis: Int64 = Timestamp.nowMillis()) throws -> WebhookDelivery? {
        try withDatabase { db in
            let statement = try db.cached(
                """
                SELECT o.id, o.job_id, o.event, o.delivery_id, o.job_json, o.at, o.attempts,
                       json_extract(o.job_json, '$.source')
                FROM webhook_outbox o
                WHERE o.state = 'pending' AND o.next_attempt_at <= ?1
                  AND NOT EXISTS (SELECT 1 FROM webhook_outbox p WHERE p.state = 'pending' AND p.job_id = o.job_id
                                  AND p.id < o.id)
                ORDER BY o.next_attempt_at, o.id LIMIT 1
                """)
            statement.bind(1, nowMillis)
            guard try statement.step() else { return nil }
            return WebhookDelivery(
                id: statement.int64(0), jobID: statement.int64(1), event: statement.string(2) ?? "",
                deliveryID: statement.string(3) ?? "", jobJSON: statement.string(4) ?? "{}",
                at: statement.string(5) ?? "",
                attempts: statement.int(6), source: statement.string(7) ?? "default")
        }
    }

    /// When the next pending delivery becomes due (unix ms), or nil when none waits.
    package func nextWebhookDueMillis() throws -> Int64? {
        try withDatabase { db in
            let statement = try db.cached("SELECT min(next_attempt_at) FROM webhook_outbox WHERE state = 'pending'")
            return try statement.step() ? statement.optionalInt64(0) : nil
        }
    }

    /// The receiver accepted it: the row has done its work.
    package func webhookDelivered(id: Int64) throws {
        try execute("DELETE FROM webhook_outbox WHERE id = ?1") { statement in statement.bind(1, id) }
    }

    /// A failed attempt: try again at `nextAttemptAtMillis`, or give up into `dead` when `dead` is true.
    package func webhookAttemptFailed(id: Int64, error: String, nextAttemptAtMillis: Int64, dead: Bool) throws {
        try execute(
            """
            UPDATE webhook_outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3,
                   state = CASE WHEN ?4 = 1 THEN 'dead' ELSE state END
            WHERE id = ?1
            """
        ) { statement in
            statement.bind(1, id).bind(2, error).bind(3, nextAttemptAtMillis).bind(4, dead ? 1 : 0)
        }
    }

    /// `imagedrop webhook retry`: dead deliveries go out again (same delivery ids), their attempts counted
    /// afresh. Returns how many.
    @discardableResult
    package func retryDeadWebhooks() throws -> Int {
        try executeCountingChanges(
            """
            UPDATE webhook_outbox SET state = 'pending', attempts = 0, next_attempt_at = 0 WHERE state = 'dead'
            """
        ) { _ in }
    }

    /// Backlog and dead deliveries for `status`; nil on a table an older imagedrop wrote (no outbox yet).
    package func webhookBacklog() throws -> WebhookBacklog? {
        try withDatabase { db in
            let exists = try db.cached("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'webhook_outbox'")
            guard try exists.step() else { return nil }
            var backlog = WebhookBacklog()
            let counts = try db.cached(
                """
                SELECT (SELECT count(*) FROM webhook_outbox WHERE state = 'pending'),
                       (SELECT count(*) FROM webhook_outbox WHERE state = 'dead'),
                       (SELECT last_error FROM webhook_outbox WHERE state = 'dead' ORDER BY id DESC LIMIT 1)
                """)
            if try counts.step() {
                backlog.pending = counts.int(0)
                backlog.dead = counts.int(1)
                backlog.lastDeadError = counts.string(2)
            }
            return backlog
        }
    }
}
