import ImagedropSupport
import Synchronization

/// One component's pulse: when it last beat and what it was doing then. One atomic word (activity in the top
/// byte, monotonic milliseconds below), so a beat never takes a lock and a reader never sees a beat paired
/// with the wrong activity. `Liveness.evaluate` judges the pulses.
package final class Heartbeat: Sendable {
    package enum Activity: UInt8, Sendable, CaseIterable {
        /// A loop between turns (the main loop, the watcher between events).
        case turning = 1
        /// A worker with nothing to claim (it waits at most a second at a time).
        case idle
        /// A worker holding back because the queue is paused (token refused).
        case paused
        /// The watcher listing folders (it beats for every folder).
        case scanning
        /// A worker carrying a job: between two beats runs at most one request.
        case working
        /// A worker waiting for the request budget or a Retry-After block (it beats every wait slice).
        case waitingForBudget
        /// Exited on purpose; not watched any more.
        case stopped

        package var phrase: String {
            switch self {
            case .turning: "turning"
            case .idle: "idle"
            case .paused: "paused"
            case .scanning: "scanning"
            case .working: "in a job"
            case .waitingForBudget: "waiting for budget"
            case .stopped: "stopped"
            }
        }
    }

    package struct Pulse: Sendable, Equatable {
        package var component: String
        package var activity: Activity
        package var beatNanos: UInt64
        package init(component: String, activity: Activity, beatNanos: UInt64) {
            self.component = component
            self.activity = activity
            self.beatNanos = beatNanos
        }
    }

    package let component: String
    private let word: Atomic<UInt64>
    private let clock: @Sendable () -> UInt64

    /// `clock` gives monotonic nanoseconds (injected by tests).
    package init(
        component: String, activity: Activity = .turning,
        clock: @escaping @Sendable () -> UInt64 = { Timestamp.monotonicNanos() }
    ) {
        self.component = component
        self.clock = clock
        word = Atomic(Self.pack(activity, clock()))
    }

    package func beat(_ activity: Activity) {
        word.store(Self.pack(activity, clock()), ordering: .releasing)
    }

    package var pulse: Pulse {
        let value = word.load(ordering: .acquiring)
        return Pulse(
            component: component, activity: Activity(rawValue: UInt8(value >> 56)) ?? .turning,
            beatNanos: (value & Self.timeMask) * 1_000_000)
    }

    private static let timeMask: UInt64 = (1 << 56) - 1
    private static func pack(_ activity: Activity, _ nanos: UInt64) -> UInt64 {
        UInt64(activity.rawValue) << 56 | ((nanos / 1_000_000) & timeMask)
    }
}

/// Every heartbeat of this process, for the watchdog to judge together. Components register when they start
/// and leave when they end on purpose (a worker removed by a reload), so an exited thread is not "wedged".
package final class Heartbeats: Sendable {
    private let members = Mutex<[String: Heartbeat]>([:])

    package init() {}

    /// The component's heartbeat, created on first use (a restarted worker reuses its slot).
    package func heartbeat(_ component: String) -> Heartbeat {
        members.withLock { members in
            if let existing = members[component] { return existing }
            let created = Heartbeat(component: component)
            members[component] = created
            return created
        }
    }

    package func remove(_ component: String) {
        _ = members.withLock { $0.removeValue(forKey: component) }
    }

    package var pulses: [Heartbeat.Pulse] {
        members.withLock { $0.values.map(\.pulse) }.sorted { $0.component < $1.component }
    }
}
