import Foundation
import Logging
import Testing

@testable import ImagedropDaemon
@testable import ImagedropPipeline
@testable import ImagedropStore

/// When `run --once` may stop, from the watcher's published progress.
@Suite("run --once completion")
struct OnceCompletionTests {
    func progress(turns: UInt64, pending: Int = 0, rescan: Bool = false, unwatched: Int = 0) -> Watcher.Progress {
        Watcher.Progress(turns: turns, pendingFiles: pending, rescanPending: rescan, unwatchedFolders: unwatched)
    }

    func watcher() throws -> (Watcher, String) {
        let directory = NSTemporaryDirectory() + "once-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/inbox", withIntermediateDirectories: true)
        var config = Config()
        config.watch.paths = [directory + "/inbox"]
        let store = try JobStore(path: directory + "/jobs.sqlite3")
        return (
            try Watcher(config: config, store: store, workSignal: WorkSignal(), logger: Logger(label: "test")),
            directory
        )
    }

    @Test("Complete only after two whole watcher turns with nothing pending since the drain was first seen")
    func twoQuietTurns() throws {
        let (watcher, directory) = try watcher()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var once = OnceCompletion()
        var answers: [Bool] = []
        answers.append(once.isComplete(queueDrained: true, watcher: progress(turns: 10), nudge: watcher))
        answers.append(once.isComplete(queueDrained: true, watcher: progress(turns: 11), nudge: watcher))
        // A file settling resets the wait; so does a queue that fills again.
        answers.append(once.isComplete(queueDrained: true, watcher: progress(turns: 12, pending: 1), nudge: watcher))
        answers.append(once.isComplete(queueDrained: true, watcher: progress(turns: 13), nudge: watcher))
        answers.append(once.isComplete(queueDrained: false, watcher: progress(turns: 20), nudge: watcher))
        answers.append(once.isComplete(queueDrained: true, watcher: progress(turns: 21), nudge: watcher))
        answers.append(once.isComplete(queueDrained: true, watcher: progress(turns: 22, rescan: true), nudge: watcher))
        answers.append(once.isComplete(queueDrained: true, watcher: progress(turns: 23), nudge: watcher))
        answers.append(once.isComplete(queueDrained: true, watcher: progress(turns: 24), nudge: watcher))
        answers.append(once.isComplete(queueDrained: true, watcher: progress(turns: 25), nudge: watcher))
        #expect(answers == [false, false, false, false, false, false, false, false, false, true])
    }

    @Test("With unwatched folders (no events from them) one rescan is asked for after the drain before stopping")
    func unwatchedFoldersAreListedOnce() throws {
        let (watcher, directory) = try watcher()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var once = OnceCompletion()
        var answers: [Bool] = []
        #expect(!watcher.rescanPending)
        answers.append(once.isComplete(queueDrained: true, watcher: progress(turns: 5, unwatched: 2), nudge: watcher))
        #expect(watcher.rescanPending)
        answers.append(
            once.isComplete(queueDrained: true, watcher: progress(turns: 6, rescan: true, unwatched: 2), nudge: watcher)
        )
        answers.append(once.isComplete(queueDrained: true, watcher: progress(turns: 7, unwatched: 2), nudge: watcher))
        answers.append(once.isComplete(queueDrained: true, watcher: progress(turns: 8, unwatched: 2), nudge: watcher))
        answers.append(once.isComplete(queueDrained: true, watcher: progress(turns: 9, unwatched: 2), nudge: watcher))
        #expect(answers == [false, false, false, false, true])
    }
}
