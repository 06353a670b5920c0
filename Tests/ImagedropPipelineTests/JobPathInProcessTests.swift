import Foundation
import Glibc
import ImagedropParsing
import ImagedropTestSupport
import ImagesEmulator
import Logging
import Synchronization
import Testing

@testable import ImagedropPipeline
@testable import ImagedropStore
@testable import ImagedropSystem

/// The job path, the worker pool and group commit in this process: a real SQLite file, real image files, real
/// HTTP over loopback to the emulator started here (as ImagesEmulatorTests start it) — no daemon binary.
@Suite("Job path in process", .serialized)
struct JobPathInProcessTests {
    static let account = "023e105f4ecef8ad9ca31a8372d0c353"

    /// An emulator, a folder with `inbox/`, a job table and a token file; the dependencies the pool hands out.
    final class Bench {
        let server: EmulatorServer
        let folder: String
        let inbox: String
        let store: JobStore
        let shared: SharedConfig
        let deps: JobProcessor.Dependencies

        init(withToken: Bool = true) throws {
            var emulator = EmulatorConfiguration()
            emulator.eventLoopThreads = 1
            server = try EmulatorServer.start(emulator)
            folder = NSTemporaryDirectory() + "jobpath-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            inbox = folder + "/inbox"
            try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
            let tokenFile = folder + "/token"
            if withToken {
                try writeFile(atPath: tokenFile, contents: Data("jobpath-test-token-0123456789abcdefghijk\n".utf8))
                chmod(tokenFile, 0o600)
            }
            var config = Config()
            config.cloudflare.apiBaseURL = server.apiBaseURL
            config.cloudflare.accountID = JobPathInProcessTests.account
            config.cloudflare.apiTokenFile = tokenFile
            config.watch.paths = [inbox]
            config.queue.database = folder + "/jobs.sqlite3"
            store = try JobStore(path: config.queue.database)
            store.setClaimableSources(config.sourceNames)
            shared = SharedConfig(config)
            let logger = Logger(label: "jobpath-test")
            let tokens = TokenProvider(source: TokenSource(config: config, environment: [:]))
            deps = JobProcessor.Dependencies.make(config, shared: shared, store: store, tokens: tokens, logger: logger)
        }

        deinit {
            try? server.stop()
            try? FileManager.default.removeItem(atPath: folder)
        }

        /// A PNG dropped in the inbox and queued as the watcher would queue it.
        @discardableResult
        func drop(_ name: String, seed: UInt64) throws -> Int64 {
            let path = inbox + "/" + name
            let bytes = SampleImages.png(width: 8, height: 8, seed: seed)
            try writeFile(atPath: path, contents: Data(bytes))
            let results = try store.enqueue([
                FileCandidate(
                    path: RawPath(path), root: RawPath(inbox), size: bytes.count,
                    mtimeNanos: 1)
            ])
            let inserted = try #require(results.first)
            guard case .inserted(let id) = inserted else {
                Issue.record("\(path) was not queued as new: \(inserted)")
                return -1
            }
            return id
        }

        func processor() -> JobProcessor {
            JobProcessor(deps, heartbeat: Heartbeats().heartbeat("test"), loggedAs: "test")
        }

        func state(_ id: Int64) throws -> JobState? { try store.job(id: id)?.state }
    }

    @Test(
        "a worker's own claim: pre-flight, send, write-back on one call; the image is stored, the job done, nothing held"
    )
    func processOnePath() throws {
        let bench = try Bench()
        let id = try bench.drop("a.png", seed: 1)
        let job = try #require(try bench.store.claim(leaseMillis: 60_000))
        #expect(job.id == id)
        bench.processor().process(job)
        #expect(try bench.state(id) == .done)
        #expect(bench.server.storedImages().count == 1)
        #expect(bench.deps.inFlight.count == 0)
    }

    @Test("the preparer's hand-off: prepared and held in flight with nothing sent, then sent by another processor")
    func preparedThenSent() throws {
        let bench = try Bench()
        let id = try bench.drop("b.png", seed: 2)
        let job = try #require(try bench.store.claim(leaseMillis: 60_000))
        let prepared = try #require(bench.processor().prepareAhead(job))
        #expect(prepared.plan != nil && prepared.file != nil)
        #expect(bench.deps.inFlight.snapshot == [id], "held for the worker that takes it")
        #expect(bench.server.storedImages().isEmpty, "pre-flight sends nothing")
        bench.processor().send(prepared: prepared)
        #expect(try bench.state(id) == .done)
        #expect(bench.server.storedImages().count == 1)
        #expect(bench.deps.inFlight.count == 0)
    }

    @Test("prepared, then a reload changes the source's rules: the job goes back to the queue unsent")
    func reloadSendsPreparedBack() throws {
        let bench = try Bench()
        let id = try bench.drop("c.png", seed: 3)
        let job = try #require(try bench.store.claim(leaseMillis: 60_000))
        let prepared = try #require(bench.processor().prepareAhead(job))
        var reloaded = bench.shared.current
        reloaded.images.requireSignedURLs.toggle()
        bench.shared.replace(reloaded)
        bench.processor().send(prepared: prepared)
        #expect(try bench.state(id) == .queued)
        #expect(bench.server.storedImages().isEmpty)
        #expect(bench.deps.inFlight.count == 0)
    }

    @Test("no token: pre-flight goes on without one; at send the queue pauses and the job goes back unsent")
    func noTokenPausesAtSend() throws {
        let bench = try Bench(withToken: false)
        #expect(bench.deps.tokens.token == nil)
        let id = try bench.drop("d.png", seed: 4)
        let job = try #require(try bench.store.claim(leaseMillis: 60_000))
        let prepared = try #require(bench.processor().prepareAhead(job), "pre-flight needs no token")
        bench.processor().send(prepared: prepared)
        #expect(try bench.state(id) == .queued)
        #expect(bench.deps.pause.isPaused)
        #expect(bench.server.storedImages().isEmpty)
    }

    @Test(
        "with the writer running, done is written behind and the job stays in flight until then; not when an action follows"
    )
    func doneWrittenBehindUnlessAnActionFollows() throws {
        let bench = try Bench()
        var deps = bench.deps
        // A minute's linger: the handed-off write-back waits for the flush below, however slow the machine.
        deps.writeBehind = WriteBehind(store: bench.store, lingerNanos: 60_000_000_000)
        deps.writeBehind.start()
        defer { _ = deps.writeBehind.finish(seconds: 10) }
        let processor = JobProcessor(deps, heartbeat: Heartbeats().heartbeat("test"), loggedAs: "test")
        let kept = try bench.drop("kept.png", seed: 31)
        processor.process(try #require(try bench.store.claim(leaseMillis: 60_000)))
        // Sent and answered; the row waits for the writer, and the lease sweep must leave the job alone meanwhile.
        #expect(bench.server.storedImages().count == 1)
        #expect(try bench.state(kept) == .uploading)
        #expect(deps.inFlight.snapshot == [kept])
        #expect(deps.writeBehind.waiting == 1)
        deps.writeBehind.flush()
        #expect(try bench.state(kept) == .done)
        #expect(deps.inFlight.count == 0)
        #expect(deps.metrics.snapshot.doneUploaded == 1)

        // `delete` acts on the file once the row says done: that write-back is the worker's own, done on return.
        var config = bench.shared.current
        config.afterUpload.onSuccess = .delete
        bench.shared.replace(config)
        let deleted = try bench.drop("deleted.png", seed: 32)
        processor.process(try #require(try bench.store.claim(leaseMillis: 60_000)))
        #expect(try bench.state(deleted) == .done)
        #expect(!FileManager.default.fileExists(atPath: bench.inbox + "/deleted.png"))
        #expect(deps.inFlight.count == 0)
        #expect(deps.writeBehind.written.writeBacks == 1, "only the first went through the writer")
    }

    @Test("the pool: its workers and preparer carry every dropped file to done, then stop when asked")
    func poolDrainsAndStops() throws {
        let bench = try Bench()
        let ids = try (1...6).map { try bench.drop("p\($0).png", seed: UInt64(10 + $0)) }
        let pool = UploadWorkerPool(bench.deps, heartbeats: Heartbeats())
        pool.start()
        var states: [JobState?] = []
        for _ in 0..<600 {  // up to a minute on a loaded machine; what is asserted is the end state, not the time
            states = try ids.map(bench.state)
            if states.allSatisfy({ $0 == .done }) { break }
            bench.deps.workSignal.wait(timeoutSeconds: 0.1)
        }
        bench.deps.shutdown.beginStopping()
        bench.deps.workSignal.notifyAll()
        #expect(pool.waitForExit(seconds: 30), "every thread ends once stopping")
        #expect(states.allSatisfy { $0 == .done }, "\(states)")
        #expect(Set(bench.server.storedImages().map(\.id)).count == ids.count)
        #expect(bench.deps.inFlight.count == 0)
    }

    /// A Database shared by the threads of the group-commit test (GroupCommit and the lock serialise its use).
    final class SharedDatabase: @unchecked Sendable {
        let folder: TemporaryFolder
        let db: Database
        let lock = NSLock()
        let group = GroupCommit()
        /// A table `t(n INTEGER UNIQUE)` in a file of its own, removed with the folder.
        init() throws {
            folder = try TemporaryFolder("groupcommit")
            db = try Database(path: folder.database)
            try db.execute("CREATE TABLE t(n INTEGER UNIQUE)")
        }
        /// `holdMicros`: how long each write holds the lock, so that others queue behind it.
        func run(_ sql: String, holdMicros: UInt32 = 0) throws {
            try group.run(
                { db in try db.execute(sql) },
                withDatabase: { body in
                    lock.lock()
                    defer { lock.unlock() }
                    try body(db)
                    if holdMicros > 0 { usleep(holdMicros) }
                })
        }
    }

    @Test("group commit: bodies from many threads each land once, and the one that fails gets its own error")
    func groupCommit() throws {
        let shared = try SharedDatabase()
        let failed = Mutex<[Int]>([])
        // Thread 7 inserts 3 again: whichever of 3 and 7 comes second breaks the UNIQUE constraint, alone.
        DispatchQueue.concurrentPerform(iterations: 16) { index in
            do {
                try shared.run("INSERT INTO t(n) VALUES (\(index == 7 ? 3 : index))")
            } catch {
                failed.withLock { $0.append(index) }
            }
        }
        let failures = failed.withLock { $0 }
        #expect(failures.count == 1 && [3, 7].contains(failures[0]), "\(failures)")
        let statement = try shared.db.prepare("SELECT count(*) FROM t")
        #expect(try statement.step() && statement.int(0) == 15)
    }

    /// Each waiter sleeps on its own condition and is woken alone (its write done, or its turn to lead), after
    /// the leader lets the lock go. A wake-up lost on the way would leave a thread asleep for good: 8 threads
    /// of 100 to 275 transitions each (so they end one after another, the last writes led by threads that
    /// then leave while others wait) must all come back, each transition landing once.
    @Test("group commit under load: no waiter is left asleep, every body lands once")
    func groupCommitNoLostWakeups() throws {
        let shared = try SharedDatabase()
        let threads = 8
        let counts = (0..<threads).map { 100 + 25 * $0 }
        let rounds = 6  // a lost wake-up needs the wrong moment: one round in three met it when one was lost
        let errors = Mutex<[String]>([])
        for round in 0..<rounds {
            let finished = DispatchSemaphore(value: 0)
            for thread in 0..<threads {
                Thread.detachNewThread {
                    for index in 0..<counts[thread] {
                        let value = round * 100_000 + thread * 1_000 + index
                        do { try shared.run("INSERT INTO t(n) VALUES (\(value))", holdMicros: 200) } catch {
                            errors.withLock { $0.append("\(error)") }
                        }
                    }
                    finished.signal()
                }
            }
            // Generous: a round takes well under a second; only a thread asleep for good takes this long.
            let deadline = DispatchTime.now() + 60
            let back = (0..<threads).filter { _ in finished.wait(timeout: deadline) == .success }.count
            #expect(back == threads, "round \(round): \(threads - back) threads never came back from their writes")
            if back < threads { return }
        }
        #expect(errors.withLock { $0 }.isEmpty)
        let statement = try shared.db.prepare("SELECT count(*), count(DISTINCT n) FROM t")
        let total = counts.reduce(0, +) * rounds
        #expect(try statement.step() && statement.int(0) == total && statement.int(1) == total)
    }
}
