import Glibc
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import Logging
import Synchronization

/// Delivers the outbox: one thread with its own libcurl handle, one delivery at a time, oldest due first and
/// in order per job. At least once: a row is deleted only after a 2xx, so a crash or a stop mid-request sends
/// it again (under the same delivery id). Failures back off with the retry policy (the upload's backoff
/// settings, `[webhook] max_attempts`) and end `dead`, for `status` to show and `webhook retry` to resend.
/// It never touches the API's rate limiter or request budget: webhook traffic goes to another host.
package final class WebhookSender: Sendable {
    private let store: JobStore
    private let config: SharedConfig
    private let heartbeat: Heartbeat
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)
    /// Opened by `stop`: ends any pause at once, also one that begins after the stop.
    private let stopRequested = Latch()
    private let finished = Latch()
    /// How often the outbox is looked at when nothing is due (rows arrive through triggers, not a call).
    private let pollSeconds: Double

    package init(store: JobStore, config: SharedConfig, heartbeat: Heartbeat, logger: Logger, pollSeconds: Double = 0.5)
    {
        self.store = store
        self.config = config
        self.heartbeat = heartbeat
        self.logger = logger
        self.pollSeconds = pollSeconds
    }

    package func start() {
        OSThread.start(name: "imagedrop-webhook") { [self] in run() }
    }

    /// Ends the loop; a request in flight is cut short and its row stays pending for the next start.
    package func stop(waitSeconds: Double = 5) {
        beginStop()
        _ = waitForExit(seconds: waitSeconds)
    }

    /// Asks the loop to end; returns at once (`waitForExit` waits).
    package func beginStop() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        stopRequested.countDown()
    }

    /// True once the loop ended (at most `seconds` from now).
    package func waitForExit(seconds: Double) -> Bool { finished.wait(seconds: seconds) }

    private var isStopping: Bool { stopping.load(ordering: .acquiring) }

    private func run() {
        defer {
            heartbeat.beat(.stopped)
            finished.countDown()
        }
        let curl = CurlEasy()
        while !isStopping {
            heartbeat.beat(.idle)
            let webhook = config.current.webhook
            guard webhook.isEnabled else {
                pause(seconds: 1)
                continue
            }
            let delivery: WebhookDelivery?
            do {
                delivery = try store.nextWebhookDelivery()
            } catch {
                logger.warning("cannot read the webhook outbox", metadata: ["error": "\(error)"])
                pause(seconds: 1)
                continue
            }
            guard let delivery else {
                pause(seconds: secondsUntilDue())
                continue
            }
            heartbeat.beat(.working)
            send(delivery, webhook: webhook, curl: curl)
        }
    }

    private func secondsUntilDue() -> Double {
        guard let due = try? store.nextWebhookDueMillis() else { return pollSeconds }
        return min(max(Double(due - Timestamp.nowMillis()) / 1000, 0.01), pollSeconds)
    }

    private func pause(seconds: Double) {
        stopRequested.wait(seconds: seconds)
    }

    private func send(_ delivery: WebhookDelivery, webhook: Config.Webhook, curl: CurlEasy) {
        guard let url = webhook.url else { return }
        let body = WebhookBody.render(delivery)
        // Curl polls this during a transfer (about once a second): it is the beat of a long delivery too.
        let cancellation = Cancellation { [self] in
            heartbeat.beat(.working)
            return isStopping
        }
        let problem: String
        do {
            // The receiver's answer is its status; its body is read up to 64 KiB and the rest left unread, so a
            // 2xx with a long body (an echo, an HTML page) is an acceptance, not a failed transfer sent again.
            let response = try curl.perform(
                method: "POST", url: url,
                headers: WebhookBody.headers(delivery, body: body, secret: webhook.secret),
                body: body, timeoutSeconds: webhook.timeoutSeconds, maxResponseBytes: 64 << 10,
                truncatingLongerBodies: true, cancellation: cancellation)
            if (200..<300).contains(response.status) {
                record { try store.webhookDelivered(id: delivery.id) }
                logger.debug(
                    "webhook delivered",
                    metadata: [
                        "job": "\(delivery.jobID)", "event": "\(delivery.event)",
                        "delivery": "\(delivery.deliveryID)",
                    ])
                return
            }
            problem = "HTTP \(response.status)"
        } catch {
            // Cut short by the stop: not the receiver's fault, so not an attempt; the row goes out next start.
            if isStopping { return }
            problem = "\(error)"
        }
        let policy = RetryPolicy(
            initialMillis: Int64(config.current.upload.backoffInitialMillis),
            maxMillis: Int64(config.current.upload.backoffMaxMillis), maxAttempts: webhook.maxAttempts)
        let attemptsMade = delivery.attempts + 1
        let dead = policy.isExhausted(attemptsMade: attemptsMade)
        let delay = policy.delayMillis(attemptsMade: attemptsMade, retryAfterMillis: nil, rateLimited: false)
        record {
            try store.webhookAttemptFailed(
                id: delivery.id, error: problem, nextAttemptAtMillis: Timestamp.nowMillis() + delay,
                dead: dead)
        }
        let metadata: Logger.Metadata = [
            "job": "\(delivery.jobID)", "event": "\(delivery.event)",
            "delivery": "\(delivery.deliveryID)", "attempts": "\(attemptsMade)",
            "error": "\(problem)",
        ]
        if dead {
            logger.error(
                "webhook delivery given up (dead); `imagedrop webhook retry` sends it again", metadata: metadata)
        } else {
            logger.warning(
                "webhook delivery failed; will retry", metadata: metadata.merging(["retry_in_ms": "\(delay)"]) { $1 })
        }
    }

    /// An outbox write that fails (disk full) is logged; the row stays as it was and is tried again.
    private func record(_ write: () throws -> Void) {
        do { try write() } catch {
            logger.warning("cannot update the webhook outbox", metadata: ["error": "\(error)"])
            pause(seconds: 1)
        }
    }
}
