import Dispatch
import Foundation
import Synchronization
import Testing

@testable import ImagedropDaemon

/// The status endpoint's database lane: one read at a time, a bounded line behind it, and a turn that comes
/// too late is skipped.
@Suite("Database lane")
struct DatabaseLaneTests {
    @Test("one runs at a time; past the waiting limit submit refuses (503 busy); the lane frees as work ends")
    func bounded() {
        let lane = DatabaseLane(waitingLimit: 3, maxWaitNanos: 60_000_000_000)
        let gate = DispatchSemaphore(value: 0)
        let running = Mutex((now: 0, peak: 0, done: 0))
        let finished = DispatchSemaphore(value: 0)
        var accepted = 0
        for _ in 0..<10 {
            let queued = lane.submit { _ in
                running.withLock {
                    $0.now += 1
                    $0.peak = max($0.peak, $0.now)
                }
                gate.wait()
                running.withLock {
                    $0.now -= 1
                    $0.done += 1
                }
                finished.signal()
            }
            if queued { accepted += 1 }
        }
        #expect(accepted == 4, "one running and three waiting")
        for _ in 0..<accepted { gate.signal() }
        for _ in 0..<accepted { #expect(finished.wait(timeout: .now() + 30) == .success) }
        #expect(running.withLock { $0.peak == 1 && $0.done == 4 })
        let again = DispatchSemaphore(value: 0)
        #expect(lane.submit { _ in again.signal() })
        #expect(again.wait(timeout: .now() + 30) == .success)
    }

    @Test("a request that waited past its bound gets .skip and touches nothing")
    func staleTurn() {
        let lane = DatabaseLane(waitingLimit: 2, maxWaitNanos: 10_000_000)
        let gate = DispatchSemaphore(value: 0)
        let turns = Mutex<[DatabaseLane.Turn]>([])
        let finished = DispatchSemaphore(value: 0)
        _ = lane.submit { turn in
            turns.withLock { $0.append(turn) }
            gate.wait()
            finished.signal()
        }
        _ = lane.submit { turn in
            turns.withLock { $0.append(turn) }
            finished.signal()
        }
        usleep(200_000)
        gate.signal()
        #expect(finished.wait(timeout: .now() + 30) == .success && finished.wait(timeout: .now() + 30) == .success)
        #expect(turns.withLock { $0.count == 2 && $0[1] == .skip }, "the second waited 200 ms behind the first")
    }
}
