import Foundation
import ImagedropStoreTestSupport
import ImagedropSupport
import ImagedropTestSupport
import Logging
import Synchronization
import Testing

@testable import ImagedropDaemon
@testable import ImagedropPipeline
@testable import ImagedropStore
@testable import ImagedropSystem

/// The daemon's components in process, on a real job table, a real watcher and real threads: the order they
/// start in, and what the reverse order guarantees at the stop.
@Suite("Component order", .serialized)
struct ComponentOrderTests {
    final class Log: Sendable {
        private let entries = Mutex<[String]>([])
        func add(_ entry: String) { entries.withLock { $0.append(entry) } }
        var all: [String] { entries.withLock { $0 } }
    }

    /// A component that writes what happens to it in a shared log; `stops` false: it never ends until cut short.
    final class Recording: Component, Sendable {
        let name: String
        let log: Log
        private let stops: Bool
        private let cut = Latch()
        private let failsToStart: Bool

        init(_ name: String, log: Log, stops: Bool = true, failsToStart: Bool = false) {
            self.name = name
            self.log = log
            self.stops = stops
            self.failsToStart = failsToStart
        }

        struct Refused: Error {}

        func start() throws {
            if failsToStart { throw Refused() }
            log.add("start \(name)")
        }
        func beginStop() { log.add("stop \(name)") }
        func wait(deadline: UInt64) -> Bool { stops || cut.wait(seconds: Components.seconds(until: deadline)) }
        var stopPatienceSeconds: Double { 0.3 }
        func abort() {
            log.add("abort \(name)")
            cut.countDown()
        }
    }

    @Test("Started in order, stopped in reverse; one that does not stop in its patience is cut short")
    func reverseStop() throws {
        let log = Log()
        let components = Components([
            Recording("a", log: log), Recording("b", log: log, stops: false), Recording("c", log: log),
        ])
        try components.start()
        var cutShort: [String] = []
        components.stop(cutShort: { component, _ in cutShort.append(component.name) })
        #expect(
            log.all == ["start a", "start b", "start c", "stop c", "stop b", "abort b", "stop a"])
        #expect(cutShort == ["b"])
        #expect(components.started.isEmpty)
    }

    @Test("A component that fails to start stops those already started, in reverse, and the error goes on")
    func failedStart() throws {
        let log = Log()
        let components = Components([
            Recording("a", log: log), Recording("b", log: log), Recording("c", log: log, failsToStart: true),
        ])
        #expect(throws: Recording.Refused.self) { try components.start() }
        #expect(log.all == ["start a", "start b", "stop b", "stop a"])
    }

    @Test(
        "The daemon's list: endpoint first and watcher last; the last metrics file, with up 0, counts the job a worker held as queued again"
    )
    func daemonStop() throws {
        try withTemporaryStore("imagedrop-components") { temp in
            let store = temp.store
            let inbox = temp.folder.appending("inbox")
            try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
            let metricsPath = temp.folder.appending("imagedrop.prom")
            var config = Config()
            config.queue.database = temp.database
            config.watch.paths = [inbox]
            config.metrics.textfile = metricsPath
            config.http.listen = .unix(path: temp.folder.appending("http.sock"))
            store.setClaimableSources(config.sourceNames)
            try store.recordDaemonStart(pid: 1, host: "test", version: "test")
            // A job a worker holds when the stop comes (claimed here: no worker claims without a token).
            _ = try store.enqueue([.inDrop("held.jpg")])
            #expect(try store.claim(leaseMillis: 600_000) != nil)
            let shared = SharedConfig(config)
            let logger = Logger(label: "component-order-test")
            let upload = JobProcessor.Dependencies.make(
                config, shared: shared, store: store,
                tokens: TokenProvider(source: TokenSource(config: config, environment: [:])), logger: logger)
            let heartbeats = Heartbeats()
            let watcher = try Watcher(
                config: config, store: store, workSignal: upload.workSignal, logger: logger,
                heartbeat: heartbeats.heartbeat("watcher"), openWrites: upload.openWrites)
            try watcher.arm()
            let components = DaemonComponents(
                config: config, shared: shared, upload: upload, heartbeats: heartbeats, health: DatabaseHealth(),
                watcher: watcher, logger: logger)
            #expect(
                components.list.all.map(\.name) == [
                    "http endpoint", "metrics writer", "job table", "webhook sender", "upload workers", "watcher",
                ])
            try components.list.start()
            #expect(
                eventually(within: 30) {
                    (try? Exposition(String(contentsOfFile: metricsPath, encoding: .utf8)))?.value("imagedrop_up") == 1
                })
            components.list.stop()
            let last = try Exposition(String(contentsOfFile: metricsPath, encoding: .utf8))
            #expect(last.value("imagedrop_up") == 0)
            #expect(last.value("imagedrop_jobs", ["state": "queued"]) == 1)
            #expect(last.value("imagedrop_jobs", ["state": "uploading"]) == 0)
            #expect(try store.daemonRecord().stoppedAt != nil)
        }
    }
}
