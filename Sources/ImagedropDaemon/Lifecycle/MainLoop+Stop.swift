import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import Logging

extension MainLoop {
    /// The stop after the loop: the last status line, the stop line, then the components in reverse (watcher,
    /// workers within the grace period, webhook sender, fleet heartbeat, job table, metrics writer, endpoint).
    func stop(_ end: End) {
        let upload = running.upload
        // The last state stays on screen as an ordinary line; what follows (the stop, the summary) prints below it.
        running.progress?.finish(running.text.line(try? running.store.counts(), rate: throughput.rate))
        // Prepared jobs are not waited for: they have sent nothing and go straight back to the queue; jobs whose
        // `done` waits for the writer have had their reply.
        logStopping(
            signal: end.signal,
            inFlight: max(0, upload.inFlight.count - components.pool.prepared.count - upload.writeBehind.waiting),
            graceSeconds: running.shared.current.upload.shutdownGraceSeconds)
        notifier.stopping()
        let store = running.store
        let graceSeconds = running.shared.current.upload.shutdownGraceSeconds
        let logger = self.logger
        // The heartbeat goes on while a component is waited for: a grace period is longer than the silence after
        // which `status` says "not responding". A second SIGTERM/SIGINT (an impatient Ctrl-C) ends the wait at once.
        var lastBeat: UInt64 = 0
        components.list.stop(
            whileWaiting: { component in
                if Timestamp.monotonicNanos() - lastBeat >= UInt64(DaemonRecord.heartbeatIntervalSeconds)
                    * 1_000_000_000
                {
                    lastBeat = Timestamp.monotonicNanos()
                    try? store.recordHeartbeat(
                        statusLine: "stopping: waiting up to \(graceSeconds) s for uploads in flight")
                }
                guard case .terminate = Signals.wait(timeoutSeconds: 0) else { return false }
                logger.warning("second stop signal; cutting in-flight uploads short (their jobs go back to the queue)")
                return true
            },
            cutShort: { component, bySignal in
                guard !bySignal else { return }
                if component is PoolComponent {
                    logger.warning(
                        "grace period over; cutting in-flight uploads short (their jobs go back to the queue)")
                } else {
                    logger.warning(
                        "component did not stop in time; cut short", metadata: ["component": "\(component.name)"])
                }
            })
        logger.info("stopped")
    }

    /// The first SIGTERM/SIGINT: what the stop waits for, for how long, and how to cut it short — an operator
    /// pressing Ctrl-C under load should not have to guess whether the daemon hangs.
    private func logStopping(signal: Int32?, inFlight: Int, graceSeconds: Int) {
        let name = signal.map(Daemon.signalName)
        var metadata: Logger.Metadata = ["signal": "\(name ?? "none")", "in_flight": "\(inFlight)"]
        guard let name else {
            // `--once` done, or a fatal condition already logged: no one is waiting for an answer to a signal.
            logger.info("stopping", metadata: metadata)
            return
        }
        guard inFlight > 0 else {
            logger.info("stopping on \(name): no uploads in flight", metadata: metadata)
            return
        }
        metadata["grace_s"] = "\(graceSeconds)"
        logger.notice(
            """
            stopping on \(name): waiting up to \(graceSeconds) s for \(inFlight) \
            upload\(inFlight == 1 ? "" : "s") in flight; a second SIGINT or SIGTERM aborts \(inFlight == 1 ? "it" : "them") \
            (\(inFlight == 1 ? "its job goes" : "their jobs go") back to the queue)
            """, metadata: metadata)
    }
}
