import ImagedropPipeline
import ImagedropStore
import Logging

/// `imagedrop pause` / `resume` write the table; the running daemon has no other channel to hear them, so it
/// reads the operator's pause at start (before any worker claims) and on every turn of its main loop (one
/// SELECT of one row a second), and applies a change to the pause gate, logged once.
enum OperatorPauseFollower {
    static func follow(store: JobStore, pause gate: PauseGate, workSignal: WorkSignal, logger: Logger) {
        let pause: OperatorPause?
        do {
            pause = try store.operatorPause()
        } catch {
            // What is in force stays; a database that cannot be read is reported by the heartbeat's write.
            return
        }
        guard gate.setOperatorPause(pause?.text) else { return }
        if let pause {
            logger.notice(
                "queue paused by the operator; jobs stay queued until `imagedrop resume`",
                metadata: ["reason": "\(pause.text)", "since": "\(pause.at)"])
        } else {
            if let reason = gate.reason {
                logger.notice("operator's pause lifted; the queue stays paused", metadata: ["reason": "\(reason)"])
            } else {
                logger.notice("operator's pause lifted; queue resumed")
            }
            workSignal.notifyAll()
        }
    }
}
