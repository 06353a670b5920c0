import FoundationEssentials
import ImagedropSupport
import ImagedropSystem

/// Group commit for the workers' state transitions: those that arrive while another is being written wait
/// for it and then go together, in one transaction — one WAL append, one pass of the lock, instead of one
/// per job. A lone transition never waits: with no writer busy it goes at once, so grouping delays none by
/// more than the write it queued behind (which it waited for anyway, on the connection's lock).
///
/// Each body is one statement's work. If the grouped transaction fails, every body runs again on its own,
/// so one job's error (a constraint, a full disk) is its own and the others still land.
///
/// Each waiter sleeps on a condition of its own: when a write ends, only its members and the next leader
/// (the oldest transition that arrived during it) are woken. A broadcast woke every waiter, and those that
/// had arrived too late for the write went back to sleep at once — a futex round trip and two context
/// switches each, for nothing (docs/benchmarks.md, the small-file profile).
package final class GroupCommit: @unchecked Sendable {
    // @unchecked: `pending`, `writing` and every entry's `outcome` are only touched with `condition` held.
    private final class Entry {
        let body: (Database) throws -> Void
        var outcome: (any Error)??
        let waiter = MonotonicCondition.Waiter()
        init(_ body: @escaping (Database) throws -> Void) { self.body = body }
    }

    private let condition = MonotonicCondition()
    private var pending: [Entry] = []
    private var writing = false

    package init() {}

    /// Runs `body` on the connection, alone or in a group. `withDatabase` is the store's way in (it holds the
    /// connection's lock and handles a full disk).
    package func run(
        _ body: @escaping (Database) throws -> Void,
        withDatabase: ((Database) throws -> Void) throws -> Void
    ) throws {
        let entry = Entry(body)
        condition.lock()
        pending.append(entry)
        while entry.outcome == nil, writing { condition.wait(entry.waiter) }
        if let outcome = entry.outcome {
            condition.unlock()
            if let error = outcome { throw error }
            return
        }
        // The leader: everything queued so far goes in this write.
        writing = true
        let batch = pending
        pending.removeAll(keepingCapacity: true)
        condition.unlock()
        var outcomes: [(any Error)?]
        do {
            var written: [(any Error)?] = []
            try withDatabase { db in written = try Self.write(batch.map(\.body), db) }
            outcomes = written
        } catch {
            outcomes = Array(repeating: error, count: batch.count)
        }
        condition.lock()
        for (member, outcome) in zip(batch, outcomes) { member.outcome = .some(outcome) }
        writing = false
        // The next leader, alone: it takes every transition queued meanwhile into its own write.
        let next = pending.first
        condition.unlock()
        // Signalled after the lock is let go, or each would wake only to block on it at once. `batch` and
        // `next` hold the entries, so no waiter's condition is freed before its signal.
        for member in batch where member !== entry { condition.signal(member.waiter) }
        if let next { condition.signal(next.waiter) }
        if let error = outcomes[batch.firstIndex { $0 === entry }!] { throw error }
    }

    /// Runs `bodies` in one transaction: each body's error, or nil where it succeeded. A lone body's error is
    /// thrown, so the store's disk-full handling sees it as for any other write. Shared with `WriteBehind`.
    package static func write(_ bodies: [(Database) throws -> Void], _ db: Database) throws -> [(any Error)?] {
        if bodies.count == 1 {
            try bodies[0](db)
            return [nil]
        }
        do {
            try db.transaction {
                for body in bodies { try body(db) }
            }
            return Array(repeating: nil, count: bodies.count)
        } catch {
            // Rolled back: each on its own, so the error stays with the body that caused it.
            let outcomes = bodies.map { body in Result { try body(db) }.failure }
            if outcomes.contains(where: { ($0 as? SQLiteError)?.isDiskFull == true }) { JobStore.shrinkWAL(db) }
            return outcomes
        }
    }
}

extension Result where Failure == any Error {
    fileprivate var failure: (any Error)? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
