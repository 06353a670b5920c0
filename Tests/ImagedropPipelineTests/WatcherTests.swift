import Foundation
import Glibc
import ImagedropStoreTestSupport
import ImagedropSupport
import ImagedropTestSupport
import Logging
import Synchronization
import Testing

@testable import ImagedropPipeline
@testable import ImagedropStore
@testable import ImagedropSystem

/// The watcher in-process: real inotify on a temporary tree, a real SQLite table, and an injected
/// inotify_add_watch that fails (ENOSPC) or stalls for chosen folders and calls the real one otherwise.
@Suite("Watcher", .serialized)
struct WatcherTests {
    final class Tree {
        let temporary: TemporaryStore
        var directory: String { temporary.directory }
        var store: JobStore { temporary.store }
        let root: String
        init() throws {
            temporary = try TemporaryStore("imagedrop-watcher")
            root = temporary.directory + "/inbox"
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        }

        func config(roots: [String]? = nil) -> Config {
            var config = Config()
            config.watch.paths = roots ?? [root]
            config.watch.settleMillis = 100
            config.queue.database = temporary.database
            return config
        }

        /// Writes a PNG with an mtime in the past, so a scan takes it without waiting for it to settle.
        func write(_ relative: String, seed: UInt64) throws {
            let path = directory + "/" + relative
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(SampleImages.png(width: 4, height: 4, seed: seed)).write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSinceNow: -60)], ofItemAtPath: path)
        }

        func isQueued(_ relative: String) -> Bool {
            (try? store.latestJob(path: RawPath(directory + "/" + relative))) != nil
        }
    }

    static func enospc(_ directory: RawPath) -> SystemError { SystemError(call: "inotify_add_watch", errno: ENOSPC) }

    final class Runner: Sendable {
        let done = DispatchSemaphore(value: 0)
        init(_ watcher: Watcher) {
            Thread { [done] in
                watcher.run()
                done.signal()
            }.start()
        }
    }

    @Test("Folders past the watch limit are listed at start, counted, and polled for new files and subfolders")
    func unwatchedFoldersAreScannedAndPolled() throws {
        let tree = try Tree()
        try tree.write("inbox/a.png", seed: 1)
        try tree.write("inbox/blocked/b.png", seed: 2)
        try tree.write("inbox/blocked/inner/c.png", seed: 3)
        let watcher = try Watcher(
            config: tree.config(), store: tree.store, workSignal: WorkSignal(),
            logger: Logger(label: "test"),
            addWatch: { directory, real in
                if directory.display.contains("/blocked") { throw Self.enospc(directory) }
                return try real()
            })
        try watcher.arm()
        #expect(tree.isQueued("inbox/a.png"))
        #expect(tree.isQueued("inbox/blocked/b.png"))
        #expect(tree.isQueued("inbox/blocked/inner/c.png"))
        #expect(watcher.unwatchedFolders == 2)

        let runner = Runner(watcher)
        try tree.write("inbox/watched.png", seed: 4)
        try tree.write("inbox/blocked/new.png", seed: 5)
        try tree.write("inbox/blocked/later/d.png", seed: 6)
        #expect(eventually(within: 10) { tree.isQueued("inbox/watched.png") })
        // No inotify event can report these: only the poll of the unwatched folders finds them.
        #expect(
            eventually(within: Double(Watcher.unwatchedPollSeconds) * 3) {
                tree.isQueued("inbox/blocked/new.png") && tree.isQueued("inbox/blocked/later/d.png")
            })
        #expect(eventually(within: 5) { watcher.unwatchedFolders == 3 })
        watcher.stop()
        #expect(runner.done.wait(timeout: .now() + 10) == .success)
    }

    @Test("A folder that becomes watchable again (limit raised) leaves the unwatched count on the next poll")
    func unwatchedFolderWatchedAgain() throws {
        let tree = try Tree()
        try tree.write("inbox/blocked/b.png", seed: 7)
        let limitReached = Atomic<Bool>(true)
        let watcher = try Watcher(
            config: tree.config(), store: tree.store, workSignal: WorkSignal(),
            logger: Logger(label: "test"),
            addWatch: { directory, real in
                if limitReached.load(ordering: .acquiring), directory.display.hasSuffix("/blocked") {
                    throw Self.enospc(directory)
                }
                return try real()
            })
        try watcher.arm()
        #expect(watcher.unwatchedFolders == 1)
        let runner = Runner(watcher)
        limitReached.store(false, ordering: .releasing)
        #expect(eventually(within: Double(Watcher.unwatchedPollSeconds) * 3) { watcher.unwatchedFolders == 0 })
        // Now inotify reports it: a file closed there is queued after settling, without waiting for a poll.
        try tree.write("inbox/blocked/evented.png", seed: 8)
        #expect(eventually(within: 3) { tree.isQueued("inbox/blocked/evented.png") })
        watcher.stop()
        #expect(runner.done.wait(timeout: .now() + 10) == .success)
    }

    @Test("A reload during a long rescan returns at once; the watcher thread then arms and scans the new root")
    func reloadDuringRescanDoesNotWait() throws {
        let tree = try Tree()
        try tree.write("inbox/slow/s.png", seed: 9)
        try tree.write("second/x.png", seed: 10)
        let stall = Atomic<Bool>(false)
        let stalled = Atomic<Bool>(false)
        let release = DispatchSemaphore(value: 0)
        let watcher = try Watcher(
            config: tree.config(), store: tree.store, workSignal: WorkSignal(),
            logger: Logger(label: "test"),
            addWatch: { directory, real in
                if stall.load(ordering: .acquiring), directory.display.hasSuffix("/slow") {
                    stalled.store(true, ordering: .releasing)
                    release.wait()  // the rescan is stuck here, as on a slow NFS listing
                }
                return try real()
            })
        try watcher.arm()
        let runner = Runner(watcher)
        stall.store(true, ordering: .releasing)
        watcher.requestRescan()
        #expect(eventually(within: 10) { stalled.load(ordering: .acquiring) })

        // What SIGHUP does on the main thread: it must not wait for the stuck scan.
        let reloaded = DispatchSemaphore(value: 0)
        let config = tree.config(roots: [tree.root, tree.directory + "/second"])
        Thread {
            watcher.update(config: config)
            watcher.requestRescan()
            _ = watcher.pendingFiles + watcher.unwatchedFolders
            reloaded.signal()
        }.start()
        let answered = reloaded.wait(timeout: .now() + 5) == .success
        #expect(answered, "update(config:) waited behind the rescan")
        #expect(stalled.load(ordering: .acquiring) && !tree.isQueued("second/x.png"))

        stall.store(false, ordering: .releasing)
        release.signal()
        if !answered { _ = reloaded.wait(timeout: .now() + 10) }
        #expect(eventually(within: 10) { tree.isQueued("second/x.png") })
        watcher.stop()
        #expect(runner.done.wait(timeout: .now() + 10) == .success)
    }
}
