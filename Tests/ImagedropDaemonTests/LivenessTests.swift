import Foundation
import Glibc
import Logging
import Synchronization
import Testing

@testable import ImagedropDaemon
@testable import ImagedropSystem

/// The watchdog's rule, judged from heartbeats with an injected clock: waits are alive, stuck threads are not.
@Suite("Liveness rule")
struct LivenessTests {
    /// A clock the test moves by hand.
    final class FakeClock: Sendable {
        private let nanos = Atomic<UInt64>(1_000_000_000_000)
        var now: UInt64 { nanos.load(ordering: .relaxed) }
        func advance(seconds: Double) { nanos.add(UInt64(seconds * 1e9), ordering: .relaxed) }
        func heartbeat(_ component: String, _ activity: Heartbeat.Activity) -> Heartbeat {
            let beat = Heartbeat(component: component, activity: activity, clock: { [self] in now })
            beat.beat(activity)
            return beat
        }
    }

    let rule = Liveness.Rule(requestTimeoutSeconds: 120, stallSeconds: 30, marginSeconds: 60)

    func evaluate(_ beats: [Heartbeat], _ clock: FakeClock) -> Liveness {
        Liveness.evaluate(beats.map(\.pulse), nowNanos: clock.now, rule: rule)
    }

    @Test("Loops that keep beating are alive however long the queue waits for budget, a block or a paused token")
    func waitsThatBeatAreAlive() {
        let clock = FakeClock()
        let main = clock.heartbeat("main", .turning)
        let watcher = clock.heartbeat("watcher", .turning)
        let budget = clock.heartbeat("worker-0", .waitingForBudget)
        let paused = clock.heartbeat("worker-1", .paused)
        let idle = clock.heartbeat("worker-2", .idle)
        // Ten minutes of waiting, each component beating once a second as its wait slices do.
        for _ in 0..<600 {
            clock.advance(seconds: 1)
            main.beat(.turning)
            watcher.beat(.turning)
            budget.beat(.waitingForBudget)
            paused.beat(.paused)
            idle.beat(.idle)
            #expect(evaluate([main, watcher, budget, paused, idle], clock) == .alive)
        }
    }

    @Test("A slow upload is alive up to request_timeout_s plus the margin, and wedged past it")
    func slowRequestWithinTimeoutIsAlive() throws {
        let clock = FakeClock()
        let main = clock.heartbeat("main", .turning)
        let worker = clock.heartbeat("worker-3", .working)
        clock.advance(seconds: 179)
        main.beat(.turning)
        #expect(evaluate([main, worker], clock) == .alive)
        clock.advance(seconds: 2)
        main.beat(.turning)
        guard case .wedged(let reason) = evaluate([main, worker], clock) else {
            Issue.record("a request 181 s old with a 120 s timeout must be wedged")
            return
        }
        #expect(reason.contains("worker-3"))
        #expect(reason.contains("181 s"))
    }

    @Test("A watcher loop that stops turning is wedged after stall_s, even while workers are fine")
    func stuckWatcherIsWedged() {
        let clock = FakeClock()
        let main = clock.heartbeat("main", .turning)
        let watcher = clock.heartbeat("watcher", .scanning)
        let worker = clock.heartbeat("worker-0", .idle)
        clock.advance(seconds: 29)
        main.beat(.turning)
        worker.beat(.idle)
        #expect(evaluate([main, watcher, worker], clock) == .alive)
        clock.advance(seconds: 2)
        main.beat(.turning)
        worker.beat(.idle)
        #expect(
            evaluate([main, watcher, worker], clock)
                == .wedged("watcher scanning for 31 s without a beat (allowed 30 s)"))
    }

    @Test("A main loop that stops turning is wedged; a component that stopped on purpose is not watched")
    func stuckMainAndStoppedComponents() {
        let clock = FakeClock()
        let main = clock.heartbeat("main", .turning)
        let gone = clock.heartbeat("worker-5", .stopped)
        clock.advance(seconds: 3600)
        #expect(Liveness.evaluate([gone.pulse], nowNanos: clock.now, rule: rule) == .alive)
        guard case .wedged(let reason) = evaluate([main, gone], clock) else {
            Issue.record("a main loop silent for an hour must be wedged")
            return
        }
        #expect(reason.hasPrefix("main turning"))
    }

    @Test("An idle worker that stops beating is wedged long before a request timeout would allow")
    func idleWorkerUsesStallLimit() {
        let clock = FakeClock()
        let worker = clock.heartbeat("worker-0", .idle)
        clock.advance(seconds: 31)
        #expect(evaluate([worker], clock) != .alive)
        worker.beat(.working)
        clock.advance(seconds: 31)
        #expect(evaluate([worker], clock) == .alive)
    }

    @Test("The registry drops a component that left, and reuses the slot of one that comes back")
    func registry() {
        let board = Heartbeats()
        let first = board.heartbeat("worker-0")
        #expect(board.heartbeat("worker-0") === first)
        _ = board.heartbeat("main")
        #expect(board.pulses.map(\.component) == ["main", "worker-0"])
        board.remove("worker-0")
        #expect(board.pulses.map(\.component) == ["main"])
    }

    @Test("The pinger sends WATCHDOG=1 while alive, withholds it from the first wedged judgement on, and resumes")
    func pingerFollowsTheRule() throws {
        let directory = NSTemporaryDirectory() + "liveness-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/notify.sock"
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try #require(bound == 0)
        func pings() -> Int {
            var count = 0
            var buffer = [UInt8](repeating: 0, count: 512)
            while recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT)) > 0 { count += 1 }
            return count
        }

        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": path, "WATCHDOG_USEC": "6000000"])
        var pinger = try #require(WatchdogPinger(notifier: notifier))
        let clock = FakeClock()
        let main = clock.heartbeat("main", .turning)
        let worker = clock.heartbeat("worker-0", .working)
        let logger = Logger(label: "test")
        // The socket queues only a few datagrams: count them after every tick, as systemd reads them.
        var sent = 0
        for _ in 0..<60 {  // a minute: the worker's request is within 120 + 60 s
            clock.advance(seconds: 1)
            main.beat(.turning)
            pinger.tick(
                nowNanos: clock.now, pulses: [main.pulse, worker.pulse], rule: rule, notifier: notifier, logger: logger)
            sent += pings()
        }
        #expect(sent == 20)  // every 3 s
        #expect(pinger.wedged == nil)
        for _ in 0..<150 {  // the request passes 180 s without a beat
            clock.advance(seconds: 1)
            main.beat(.turning)
            pinger.tick(
                nowNanos: clock.now, pulses: [main.pulse, worker.pulse], rule: rule, notifier: notifier, logger: logger)
            sent += pings()
        }
        #expect(sent == 60)  // 120 s more of pings, then none from 181 s on
        #expect(pinger.wedged?.contains("worker-0") == true)
        worker.beat(.idle)
        clock.advance(seconds: 1)
        pinger.tick(
            nowNanos: clock.now, pulses: [main.pulse, worker.pulse], rule: rule, notifier: notifier, logger: logger)
        #expect(pings() == 1)
        #expect(pinger.wedged == nil)
    }
}
