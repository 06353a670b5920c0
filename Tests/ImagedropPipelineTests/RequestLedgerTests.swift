import Foundation
import Glibc
import ImagedropStoreTestSupport
import Testing

@testable import ImagedropPipeline
@testable import ImagedropStore

/// Issue 9 item 2: the budget survives a restart. Real SQLite file; both clocks are given explicitly, and
/// a "restart" is a second limiter on the same table with a monotonic clock from another boot.
@Suite("Request ledger", .serialized)
struct RequestLedgerTests {
    /// The ledger's rows straight from the table: (second, requests).
    static func rows(_ temp: TemporaryStore) throws -> [(Int64, Int)] {
        try temp.store.withDatabase { db in
            let statement = try db.prepare("SELECT second, n FROM request_log ORDER BY second")
            var rows: [(Int64, Int)] = []
            while try statement.step() { rows.append((statement.int64(0), statement.int(1))) }
            return rows
        }
    }

    static func total(_ temp: TemporaryStore) -> Int { ((try? rows(temp)) ?? []).reduce(0) { $0 + $1.1 } }

    /// Grants the limiter hands out at this instant before it asks to wait.
    static func available(_ limiter: RateLimiter, mono: UInt64, wall: Int64, bound: Int) -> Int {
        var granted = 0
        while granted <= bound, limiter.tryAcquire(now: mono, wallMillis: wall) == 0 { granted += 1 }
        return granted
    }

    let wall: Int64 = 1_764_000_000_000

    @Test("a restarted limiter starts from what the last window spent, whatever its monotonic clock")
    func restartKeepsBudget() throws {
        let temp = try TemporaryStore("imagedrop-ledger")
        let first = RateLimiter(
            limit: 10, windowSeconds: 60, ledger: RequestLedger(store: temp.store),
            nowMono: 1_000_000_000_000, nowWallMillis: wall)
        #expect(Self.available(first, mono: 1_000_000_000_000, wall: wall, bound: 20) == 10)
        // Five seconds later, a new process (another boot: its monotonic clock reads 5 s).
        let second = RateLimiter(
            limit: 10, windowSeconds: 60, ledger: RequestLedger(store: temp.store),
            nowMono: 5_000_000_000, nowWallMillis: wall + 5000)
        let wait = second.tryAcquire(now: 5_000_000_000, wallMillis: wall + 5000)
        print(
            "after 10 of 10 grants and a restart 5 s later, the next request waits \(Double(wait) / 1e9) s (window 60 s)"
        )
        #expect(wait >= 55_000_000_000)
        #expect(Self.available(second, mono: 5_000_000_000 + 54_000_000_000, wall: wall + 59_000, bound: 20) == 0)
        // Once the first process's requests have left the window, the whole budget is there again.
        #expect(Self.available(second, mono: 5_000_000_000 + 60_000_000_000, wall: wall + 65_000, bound: 20) == 10)
    }

    @Test("grants are recorded before they are handed out: a crash right after a grant cannot under-count")
    func reservedBeforeGrant() throws {
        let temp = try TemporaryStore("imagedrop-ledger")
        let limiter = RateLimiter(
            limit: 1200, windowSeconds: 300, ledger: RequestLedger(store: temp.store),
            nowMono: 1_000_000_000_000, nowWallMillis: wall)
        #expect(Self.total(temp) == 0)
        #expect(limiter.tryAcquire(now: 1_000_000_000_000, wallMillis: wall) == 0)
        // One write covers a batch (1200/60 = 20) dated at the end of its 5 s lease.
        let rows = try Self.rows(temp)
        print("request_log after one grant: \(rows)")
        #expect(rows.count == 1 && rows[0].1 == 20 && rows[0].0 == wall / 1000 + 5 + 1)
        for _ in 0..<19 { #expect(limiter.tryAcquire(now: 1_000_000_000_000, wallMillis: wall) == 0) }
        #expect(Self.total(temp) == 20)
        // The 21st takes a new reservation.
        #expect(limiter.tryAcquire(now: 1_000_000_000_000, wallMillis: wall) == 0)
        #expect(Self.total(temp) == 40)
        // "Crash" now: a new limiter sees 40 spent (one real, 19 unused: over-counted, never under).
        let restarted = RateLimiter(
            limit: 1200, windowSeconds: 300, ledger: RequestLedger(store: temp.store),
            nowMono: 2_000_000_000, nowWallMillis: wall + 1000)
        #expect(Self.available(restarted, mono: 2_000_000_000, wall: wall + 1000, bound: 1300) == 1200 - 40)
    }

    @Test("the unused rest of an expired reservation is given back by the next one")
    func unusedGivenBack() throws {
        let temp = try TemporaryStore("imagedrop-ledger")
        let limiter = RateLimiter(
            limit: 1200, windowSeconds: 300, ledger: RequestLedger(store: temp.store),
            nowMono: 1_000_000_000_000, nowWallMillis: wall)
        #expect(limiter.tryAcquire(now: 1_000_000_000_000, wallMillis: wall) == 0)
        // After the 5 s lease, one more request: a new batch of 20, and 19 of the old one returned.
        #expect(limiter.tryAcquire(now: 1_006_000_000_000, wallMillis: wall + 6000) == 0)
        let rows = try Self.rows(temp)
        print("request_log after two grants 6 s apart: \(rows)")
        #expect(rows.map(\.1) == [1, 20])
    }

    @Test("a stopping daemon gives back what its last reservation did not use")
    func returnedOnStop() throws {
        let temp = try TemporaryStore("imagedrop-ledger")
        let limiter = RateLimiter(
            limit: 1200, windowSeconds: 300, ledger: RequestLedger(store: temp.store),
            nowMono: 1_000_000_000_000, nowWallMillis: wall)
        for _ in 0..<3 { #expect(limiter.tryAcquire(now: 1_000_000_000_000, wallMillis: wall) == 0) }
        #expect(Self.total(temp) == 20)
        limiter.returnUnusedReservation(wallMillis: wall + 100)
        #expect(Self.total(temp) == 3)
        // A grant after that reserves anew.
        #expect(limiter.tryAcquire(now: 1_000_000_000_000, wallMillis: wall + 200) == 0)
        #expect(Self.total(temp) == 23)
    }

    @Test("a row dated in the future (clock set back) delays the budget one window at most")
    func futureRowsCapped() throws {
        let temp = try TemporaryStore("imagedrop-ledger")
        // Written while the clock read a day ahead.
        let ahead = RateLimiter(
            limit: 5, windowSeconds: 60, ledger: RequestLedger(store: temp.store),
            nowMono: 1_000_000_000_000, nowWallMillis: wall + 86_400_000)
        #expect(Self.available(ahead, mono: 1_000_000_000_000, wall: wall + 86_400_000, bound: 10) == 5)
        let now = RateLimiter(
            limit: 5, windowSeconds: 60, ledger: RequestLedger(store: temp.store),
            nowMono: 3_000_000_000, nowWallMillis: wall)
        let wait = now.tryAcquire(now: 3_000_000_000, wallMillis: wall)
        print("5 grants dated a day ahead: the next request waits \(Double(wait) / 1e9) s, not a day")
        #expect(wait > 0 && wait <= 63_000_000_000 + now.marginNanos)
        // The future rows were folded into the present in the table, so the next start sees them there too.
        #expect(try Self.rows(temp).allSatisfy { $0.0 <= wall / 1000 + 2 })
    }

    @Test("an unwritable request log stops grants instead of sending unrecorded requests")
    func unwritableStops() throws {
        let temp = try TemporaryStore("imagedrop-ledger")
        let limiter = RateLimiter(
            limit: 10, windowSeconds: 60, ledger: RequestLedger(store: temp.store),
            nowMono: 1_000_000_000_000, nowWallMillis: wall)
        try temp.store.withDatabase { db in try db.execute("DROP TABLE request_log") }
        #expect(limiter.tryAcquire(now: 1_000_000_000_000, wallMillis: wall) == 1_000_000_000)
        try temp.store.withDatabase { db in
            try db.execute("CREATE TABLE request_log (second INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
        }
        #expect(limiter.tryAcquire(now: 1_000_000_000_000, wallMillis: wall) == 0)
        #expect(Self.total(temp) == 1)
    }

    @Test("unlimited budgets write nothing")
    func unlimited() throws {
        let temp = try TemporaryStore("imagedrop-ledger")
        let limiter = RateLimiter(limit: 0, windowSeconds: 300, ledger: RequestLedger(store: temp.store))
        for _ in 0..<100 { #expect(limiter.tryAcquire() == 0) }
        #expect(Self.total(temp) == 0)
    }
}
