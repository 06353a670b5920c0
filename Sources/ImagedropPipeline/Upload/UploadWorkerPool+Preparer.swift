import ImagedropStore
import ImagedropSystem
import Logging
import Synchronization

/// Pre-flight ahead of the workers. While every worker is in a request, the next jobs are claimed,
/// opened, hashed and probed here (and their new versions recorded), so a worker's time between two
/// requests is one write-back and one take. Workers that find nothing prepared claim for themselves, so
/// the preparer is never what they wait for; while any worker is hungry, new jobs are left to it.
extension UploadWorkerPool {
    /// Prepared jobs that may wait at once: one per four workers (at least one, at most eight), enough to
    /// absorb replies that land together, few enough that little is held `uploading` with its file open.
    package var preparedDepth: Int { max(1, min(8, deps.concurrency.currentLimit / 4)) }

    package func prepareLoop() {
        let processor = JobProcessor(deps, heartbeat: heartbeats.heartbeat("preparer"), loggedAs: "preparer")
        let heartbeat = processor.heartbeat
        defer {
            returnPrepared()
            heartbeats.remove(heartbeat.component)
        }
        while !deps.shutdown.isStopping {
            if deps.pause.isPaused {
                returnPrepared()  // nothing is sent while paused: the jobs wait `queued`, not held `uploading`
                heartbeat.beat(.paused)
                deps.workSignal.wait(timeoutSeconds: 1)
                continue
            }
            if !deps.quotaWatch.isStartChecked() {
                // As the workers do: nothing is claimed before the start's quota read has had its say.
                heartbeat.beat(.idle)
                deps.workSignal.wait(timeoutSeconds: 0.05)
                continue
            }
            heartbeat.beat(.idle)
            // A spent budget or a 429 block holds the workers for a while: a batch's jobs wait `queued` meanwhile.
            if deps.budget.waitMillis() > 0 { returnClaimed() }
            guard prepared.waitForRoom(below: preparedDepth, timeoutSeconds: 0.5) else { continue }
            // A hungry worker claims the next job itself, at once; a spent budget or a 429 block keeps the
            // workers waiting with the jobs they hold, and preparing more would only hold more.
            if hungry.load(ordering: .acquiring) > 0 || deps.budget.waitMillis() > 0 {
                deps.workSignal.wait(timeoutSeconds: 0.1)  // the watcher's signal wakes it sooner
                continue
            }
            preparerBusy.store(true, ordering: .releasing)
            let job = try? claimNext()
            guard let job else {
                preparerBusy.store(false, ordering: .releasing)
                deps.workSignal.wait(timeoutSeconds: nextWakeSeconds())
                continue
            }
            heartbeat.beat(.working)
            if let ready = processor.prepareAhead(job) {
                prepared.put(ready)
                // A worker may have run out of work meanwhile and be waiting on the signal.
                if hungry.load(ordering: .acquiring) > 0 { deps.workSignal.notifyAll() }
            }
            preparerBusy.store(false, ordering: .releasing)
        }
    }

    /// Every prepared job back to the queue, ready at once; its file is closed with the entry. The jobs held
    /// from a batch go with them.
    private func returnPrepared() {
        returnClaimed()
        for entry in prepared.takeAll() {
            releaseUnsent(entry.job.id)
            deps.inFlight.remove(entry.job.id)
        }
    }
}
