import Foundation
import ImagedropStoreTestSupport
import ImagedropSupport
import ImagedropSystem
import ImagedropTestSupport
import Testing

@testable import ImagedropStore

/// Issue 25: `done` write-backs handed to one writer thread and written in batches, each with its own result.
/// A linger of a minute keeps every submission of a test in one batch until `flush` or `finish` writes it, so
/// the batching is decided by the test, not by the machine's speed.
@Suite("Write-behind of done transitions", .serialized)
struct WriteBehindTests {
    private static let minute: UInt64 = 60_000_000_000

    /// A value written by the writer thread's completions and read by the test.
    private final class Shared<Value>: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: Value
        init(_ value: Value) { stored = value }
        func withLock<T>(_ body: (inout Value) -> T) -> T {
            lock.lock()
            defer { lock.unlock() }
            return body(&stored)
        }
    }

    /// Five jobs claimed (`uploading`) in a fresh table, which lives as long as this value (its folder with it).
    private struct Table {
        let folder: TemporaryFolder
        let store: JobStore
        let jobs: [Job]

        init() throws {
            folder = try TemporaryFolder("imagedrop-store")
            store = try JobStore.withDropFiles(["a.png", "b.png", "c.png", "d.png", "e.png"], in: folder)
            jobs = try store.claim(leaseMillis: 60_000, upTo: 5)
            try #require(jobs.count == 5)
        }

        /// The writer `make` builds on this table, started.
        func started(_ make: (JobStore) -> WriteBehind) -> WriteBehind {
            let writer = make(store)
            writer.start()
            return writer
        }
    }

    /// A write-back whose statement fails (no such table): SQLite's error, as a full disk would give one.
    private static let failingBody: WriteBehind.Body = { db in
        try db.execute("UPDATE no_such_table SET x = 1")
        return true
    }

    private func version(_ job: Job) -> JobStore.Version? {
        guard let size = job.size, let mtime = job.mtimeNanos else { return nil }
        return JobStore.Version(size: size, mtimeNanos: mtime)
    }

    private func done(_ job: Job, version: JobStore.Version?) -> WriteBehind.Body {
        JobStore.doneWrite(
            id: job.id, imageID: "img-\(job.id)", variants: ["https://example.invalid/\(job.id)/public"],
            sha256: String(repeating: "a", count: 64), countAttempt: true, afterAction: nil, version: version)
    }

    @Test("write-backs submitted together land in one transaction; a row tracking another version is left as it is")
    func oneTransactionEachItsResult() throws {
        let table = try Table()
        let (store, jobs) = (table.store, table.jobs)
        let writer = table.started { WriteBehind(store: $0, lingerNanos: Self.minute) }
        let results = Shared<[Int64: Bool]>([:])
        for (index, job) in jobs.enumerated() {
            // The third names a version the row does not track (the watcher saw a newer one): not recorded.
            let version = index == 2 ? JobStore.Version(size: 1, mtimeNanos: 1) : version(job)
            let handed = writer.submit(done(job, version: version)) { result in
                results.withLock { $0[job.id] = try? result.get() }
            }
            #expect(handed)
        }
        #expect((try store.counts()[.done] ?? 0) == 0)
        writer.flush()
        #expect(writer.written.writeBacks == 5)
        #expect(writer.written.batches == 1)
        #expect(writer.isIdle)
        let seen = results.withLock { $0 }
        for (index, job) in jobs.enumerated() {
            #expect(seen[job.id] == (index != 2))
            let row = try #require(try store.job(id: job.id))
            #expect(row.state == (index == 2 ? .uploading : .done))
            if index != 2 { #expect(row.imageID == "img-\(job.id)") }
        }
        #expect(writer.finish(seconds: 10))
    }

    @Test("a body that fails gets its own error; the others of its batch are written")
    func failureStaysWithItsBody() throws {
        let table = try Table()
        let (store, jobs) = (table.store, table.jobs)
        let writer = table.started { WriteBehind(store: $0, lingerNanos: Self.minute) }
        let outcomes = Shared<[String]>([])
        for job in jobs.prefix(2) {
            _ = writer.submit(done(job, version: version(job))) { result in
                outcomes.withLock { $0.append((try? result.get()) == true ? "done" : "error") }
            }
        }
        _ = writer.submit(Self.failingBody) { result in
            outcomes.withLock { $0.append((try? result.get()) == nil ? "error" : "done") }
        }
        // finish writes what is pending at once, the linger notwithstanding, and then refuses.
        #expect(writer.finish(seconds: 10))
        #expect(outcomes.withLock { $0 } == ["done", "done", "error"])
        #expect(try store.counts()[.done] == 2)
        #expect(!writer.submit(done(jobs[4], version: nil)) { _ in Issue.record("a refused body never completes") })
    }

    @Test("a writer not started refuses, so the caller writes itself")
    func notStartedRefuses() throws {
        let table = try Table()
        let (store, jobs) = (table.store, table.jobs)
        let writer = WriteBehind(store: store)
        #expect(!writer.submit(done(jobs[0], version: nil)) { _ in Issue.record("a refused body never completes") })
        #expect(writer.isIdle)
        #expect(writer.finish(seconds: 1))
    }

    @Test("a full batch goes without waiting for the linger")
    func fullBatchGoesAtOnce() throws {
        let table = try Table()
        let (store, jobs) = (table.store, table.jobs)
        let writer = table.started { WriteBehind(store: $0, lingerNanos: Self.minute, batchLimit: 2) }
        defer { _ = writer.finish(seconds: 10) }
        for job in jobs.prefix(2) { _ = writer.submit(done(job, version: version(job))) { _ in } }
        let written = eventually(within: 10) { writer.written.writeBacks == 2 }
        #expect(written)
        #expect(writer.written.batches == 1)
        #expect(try store.counts()[.done] == 2)
    }

    @Test("with the daemon's linger a lone write-back is written by itself, no flush needed")
    func loneWriteBackGoesAfterTheLinger() throws {
        let table = try Table()
        let (store, jobs) = (table.store, table.jobs)
        let writer = table.started { WriteBehind(store: $0) }
        defer { _ = writer.finish(seconds: 10) }
        _ = writer.submit(done(jobs[0], version: version(jobs[0]))) { _ in }
        #expect(eventually(within: 10) { (try? store.counts()[.done]) == 1 })
        #expect(eventually(within: 10) { writer.isIdle })
    }

    @Test("after a failed batch the writer rests a second before the next; finish ends the rest at once")
    func restAfterFailure() throws {
        let table = try Table()
        let (store, jobs) = (table.store, table.jobs)
        let writer = table.started { WriteBehind(store: $0) }
        let failedAt = Shared<UInt64>(0)
        _ = writer.submit(Self.failingBody) { _ in failedAt.withLock { $0 = Timestamp.monotonicNanos() } }
        #expect(eventually(within: 10) { writer.written.writeBacks == 1 })
        _ = writer.submit(done(jobs[0], version: version(jobs[0]))) { _ in }
        usleep(100_000)
        let doneNow = try store.counts()[.done] ?? 0
        // Resting: within the second after the failure nothing more is written. (Checked only when this thread
        // got to look within that second: a stalled test machine cannot make it fail.)
        if Timestamp.monotonicNanos() - failedAt.withLock({ $0 }) < 900_000_000 { #expect(doneNow == 0) }
        #expect(writer.finish(seconds: 10))
        #expect(try store.counts()[.done] == 1)
    }

    @Test("past the cap a submitter waits for the writer, and goes on once the batch is written")
    func capHoldsSubmitters() throws {
        let table = try Table()
        let (store, jobs) = (table.store, table.jobs)
        let writer = table.started { WriteBehind(store: $0, lingerNanos: Self.minute, pendingCap: 2) }
        for job in jobs.prefix(2) { _ = writer.submit(done(job, version: version(job))) { _ in } }
        let third = Shared(false)
        let returned = Latch()
        OSThread.start(name: "test-submitter", stackSize: 1 << 20) { [writer] in
            let body = JobStore.doneWrite(
                id: jobs[2].id, imageID: "img", variants: [], sha256: nil, countAttempt: true, afterAction: nil,
                version: nil)
            let handed = writer.submit(body) { _ in }
            third.withLock { $0 = handed }
            returned.countDown()
        }
        // Held at the cap: the two pending wait a minute's linger, so nothing makes room but the flush below.
        #expect(!returned.wait(seconds: 0.2))
        writer.flush()
        #expect(returned.wait(seconds: 10))
        #expect(third.withLock { $0 })
        #expect(writer.finish(seconds: 10))
        #expect(try store.counts()[.done] == 3)
    }
}
