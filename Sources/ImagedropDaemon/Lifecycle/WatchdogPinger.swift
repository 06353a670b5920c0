import ImagedropSystem
import Logging

/// The systemd watchdog's side of `Liveness`: on the main loop, every half of `$WATCHDOG_USEC`, judge the
/// heartbeats and send `WATCHDOG=1` only when every component is where it should be. A wedge is logged
/// once at error level with its reason; the pings stay off until the rule says alive again.
package struct WatchdogPinger {
    package let interval: Double
    private var lastPingNanos: UInt64 = 0
    package private(set) var wedged: String?

    package init?(notifier: SystemdNotifier) {
        guard let interval = notifier.watchdogInterval else { return nil }
        self.interval = interval
    }

    package mutating func tick(
        nowNanos: UInt64, pulses: [Heartbeat.Pulse], rule: Liveness.Rule,
        notifier: SystemdNotifier, logger: Logger
    ) {
        guard Double(nowNanos &- lastPingNanos) / 1e9 >= interval else { return }
        switch Liveness.evaluate(pulses, nowNanos: nowNanos, rule: rule) {
        case .alive:
            notifier.watchdog()
            lastPingNanos = nowNanos
            if let reason = wedged {
                logger.notice("watchdog: every component turns again; pings resumed", metadata: ["was": "\(reason)"])
                wedged = nil
            }
        case .wedged(let reason):
            if wedged == nil {
                logger.error(
                    "watchdog: a component is wedged; withholding WATCHDOG=1 so systemd restarts the daemon",
                    metadata: ["reason": "\(reason)"])
            }
            wedged = reason
        }
    }
}
