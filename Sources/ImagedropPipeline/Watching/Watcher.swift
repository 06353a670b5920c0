import Glibc
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import Logging
import Synchronization

/// Turns "a file appeared in a drop folder" into a queued job: the one place that decides what counts as a
/// finished file.
///
/// A file is taken once it was closed after writing (IN_CLOSE_WRITE) or renamed in (IN_MOVED_TO) and its
/// mtime and size have not changed for `settle_ms`. New folders are watched and then scanned, so files
/// written before the watch existed are not lost. A scan (at start-up, every `rescan_interval_s`, and after
/// the kernel's queue overflowed) lists every folder and queues what the table does not know yet; the table's
/// idempotent insert makes re-seeing a file harmless. A folder inotify cannot watch (the per-user watch limit,
/// ENOSPC) is still listed by every scan and, between scans, polled every `unwatchedPollSeconds`.
///
/// One owner: everything the watcher knows (`WatcherState`) belongs to the thread running `run()` (and to
/// `arm()` before that thread starts). Other threads never wait for it: they leave requests in atomics or the
/// settings box and wake it through its pipe (`update(config:)`, `requestRescan()`, `nudge()`, `stop()`), and
/// read what it publishes (`pendingFiles`, `unwatchedFolders`, `turns`).
package final class Watcher: Sendable {
    /// How inotify_add_watch is called: tests inject failures (ENOSPC for chosen folders) around the real call.
    package typealias AddWatch = @Sendable (_ directory: RawPath, _ real: () throws -> Int32) throws -> Int32

    /// Unwatched folders are listed this often, so their new files wait seconds, not `rescan_interval_s`.
    package static let unwatchedPollSeconds: UInt64 = 5

    package let store: JobStore
    package let workSignal: WorkSignal
    package let logger: Logger
    package let heartbeat: Heartbeat
    /// Files a writer still holds; shared with the workers, whose pre-flight leaves them alone too.
    package let openWrites: OpenWrites
    package let addWatch: AddWatch
    private let state: Mutex<WatcherState>
    private let wakePipe: WakePipe
    private let settingsBox: Mutex<Settings>
    private let stopFlag = Atomic<Bool>(false)
    private let rescanFlag = Atomic<Bool>(false)
    private let pendingCount = Atomic<Int>(0)
    private let unwatchedCount = Atomic<Int>(0)
    private let turnCount = Atomic<UInt64>(0)

    package struct Settings: Sendable {
        package var roots: [RawPath]
        /// Each root's rules: those of the source it belongs to.
        package var rules: [RawPath: RootRules]
        /// The shortest of the sources' `rescan_interval_s` (0 for none): one rescan lists every root.
        package var rescanNanos: UInt64

        package subscript(root: RawPath) -> RootRules { rules[root] ?? RootRules.fallback }
    }

    /// What decides, for one source's folders, which names are candidates and when a file is finished.
    package struct RootRules: Sendable {
        package var source: String
        package var filter: PathFilter
        package var recursive: Bool
        package var settleNanos: UInt64

        package init(_ source: SourceSettings) {
            self.source = source.name
            filter = PathFilter(config: source.watch)
            recursive = source.watch.recursive
            settleNanos = UInt64(source.watch.settleMillis) * 1_000_000
        }

        package static let fallback = RootRules(
            SourceSettings(
                name: SourceSettings.defaultName, images: .init(), watch: .init(),
                afterUpload: .init()))
    }

    package init(
        config: Config, store: JobStore, workSignal: WorkSignal, logger: Logger,
        heartbeat: Heartbeat = Heartbeat(component: "watcher"), openWrites: OpenWrites = OpenWrites(),
        addWatch: @escaping AddWatch = { _, real in try real() }
    ) throws {
        self.store = store
        self.openWrites = openWrites
        self.workSignal = workSignal
        self.logger = logger
        self.heartbeat = heartbeat
        self.addWatch = addWatch
        settingsBox = Mutex(Self.settings(from: config))
        wakePipe = try WakePipe()
        state = Mutex(WatcherState(inotify: try Inotify()))
    }

    package static func settings(from config: Config) -> Settings {
        let sources = config.resolvedSources
        var roots: [RawPath] = []
        var rules: [RawPath: RootRules] = [:]
        for source in sources {
            for path in source.watch.paths {
                roots.append(RawPath(path))
                rules[RawPath(path)] = RootRules(source)
            }
        }
        let intervals = sources.map(\.watch.rescanIntervalSeconds).filter { $0 > 0 }
        return Settings(roots: roots, rules: rules, rescanNanos: UInt64(intervals.min() ?? 0) * 1_000_000_000)
    }

    package var settings: Settings { settingsBox.withLock { $0 } }

    // MARK: - Talking to the watcher thread (never waits for a scan)

    /// A reloaded config: filter, settle time, rescan interval and watch roots. The watcher thread applies it
    /// on its next turn (roots added are watched and scanned there, roots removed are forgotten), then rescans.
    package func update(config: Config) {
        settingsBox.withLock { $0 = Self.settings(from: config) }
        requestRescan()
    }

    package func requestRescan() {
        rescanFlag.store(true, ordering: .releasing)
        wakePipe.wake()
    }

    /// Makes the thread turn now (read inotify, look at due files) instead of at its next timeout.
    package func nudge() { wakePipe.wake() }

    package func stop() {
        stopFlag.store(true, ordering: .releasing)
        wakePipe.wake()
    }

    /// Files seen but not yet in the table: settling, or waiting for the database to take them.
    package var pendingFiles: Int { pendingCount.load(ordering: .acquiring) }
    /// Folders that are listed by scans and polls because inotify could not watch them.
    package var unwatchedFolders: Int { unwatchedCount.load(ordering: .acquiring) }
    /// Completed turns of the loop; a turn that began after a moment has read every event raised before it.
    package var turns: UInt64 { turnCount.load(ordering: .acquiring) }
    /// Whether a rescan was asked for and has not run yet.
    package var rescanPending: Bool { rescanFlag.load(ordering: .acquiring) }

    /// What the watcher had in hand at the end of its latest turn. Read turns first: the pending count then
    /// belongs to that turn or a later one, and everything it had flushed is in the table for a read after.
    package struct Progress: Sendable, Equatable {
        package var turns: UInt64
        package var pendingFiles: Int
        package var rescanPending: Bool
        package var unwatchedFolders: Int
    }

    package var progress: Progress {
        let turns = self.turns
        return Progress(
            turns: turns, pendingFiles: pendingFiles, rescanPending: rescanPending, unwatchedFolders: unwatchedFolders)
    }

    // MARK: - The watcher thread

    /// Arms the watches and runs the start-up scan, queueing what is already there. Called before `run()`'s
    /// thread starts; returns when both are done, so READY=1 can follow.
    package func arm() throws {
        let current = settings
        try state.withLock { state in
            state.roots = current.roots
            for root in current.roots {
                try addTree(root, root: root, state: &state, settings: current, scanFiles: true)
            }
            flush(&state)
            publish(state)
        }
    }

    /// Runs the event loop on the calling thread until `stop()`. It holds the state for its whole life: no
    /// other thread takes this lock while it runs.
    package func run() {
        state.withLock { state in
            var lastScan = Timestamp.monotonicNanos()
            var lastPoll = lastScan
            while !stopFlag.load(ordering: .acquiring) {
                heartbeat.beat(.turning)
                let current = settings
                waitForWork(state: state)
                if current.roots != state.roots { applyRoots(current, state: &state) }
                processEvents(&state, settings: current)
                processDue(&state, settings: current)
                openWrites.forgetStale(now: Timestamp.monotonicNanos())
                reviveMissingRoots(&state, settings: current)
                let now = Timestamp.monotonicNanos()
                if !state.unwatched.isEmpty, now - lastPoll >= Self.unwatchedPollSeconds * 1_000_000_000 {
                    pollUnwatched(&state, settings: current)
                    lastPoll = now
                }
                let rescanDue = current.rescanNanos > 0 && now - lastScan >= current.rescanNanos
                if rescanFlag.exchange(false, ordering: .acquiringAndReleasing) || state.overflowed || rescanDue {
                    state.overflowed = false
                    rescan(&state, settings: current)
                    lastScan = Timestamp.monotonicNanos()
                }
                flush(&state)
                publish(state)
                turnCount.add(1, ordering: .releasing)
            }
        }
        heartbeat.beat(.stopped)
    }

    /// Sleeps until an inotify event, a wake-up, or the next settle deadline (at most a second).
    private func waitForWork(state: borrowing WatcherState) {
        let now = Timestamp.monotonicNanos()
        var timeoutNanos: UInt64 = 1_000_000_000
        if let nextDue = state.settle.nextDue {
            timeoutNanos = min(timeoutNanos, nextDue > now ? nextDue - now : 0)
        }
        var fds = [
            pollfd(fd: state.inotify.fileDescriptor, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakePipe.readEnd, events: Int16(POLLIN), revents: 0),
        ]
        let timeoutMillis = Int32(min((timeoutNanos + 999_999) / 1_000_000, 1000))
        _ = poll(&fds, 2, timeoutMillis)
        if fds[1].revents != 0 { wakePipe.drain() }
    }

    private func publish(_ state: borrowing WatcherState) {
        pendingCount.store(state.settle.count + state.ready.count + openWrites.count, ordering: .releasing)
        unwatchedCount.store(state.unwatched.count, ordering: .releasing)
    }

    /// Watch roots changed on reload: forget the removed ones, watch and scan the new ones (here, on the
    /// watcher thread, so the reload that asked for it is acknowledged at once).
    private func applyRoots(_ settings: Settings, state: inout WatcherState) {
        for root in state.roots where !settings.roots.contains(root) {
            forgetTree(root, state: &state)
            state.missingRoots.remove(root)
            state.settle.forget(root: root)
        }
        for root in settings.roots where !state.roots.contains(root) {
            do {
                try addTree(root, root: root, state: &state, settings: settings, scanFiles: true)
                logger.notice("new watch folder armed and scanned", metadata: ["path": "\(root)"])
            } catch {
                logger.error(
                    "new watch folder cannot be watched; waiting for it",
                    metadata: ["path": "\(root)", "error": "\(error)"])
                state.missingRoots.insert(root)
            }
        }
        state.roots = settings.roots
    }

    // MARK: - Events

    /// IN_MODIFY and IN_DELETE are there only so that a scan can tell a file someone is still writing (see
    /// `OpenWrites`; with IN_EXCL_UNLINK a file deleted while open sends no close, so its delete ends it).
    package static let directoryMask = UInt32(
        IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_MODIFY | IN_DELETE | IN_DELETE_SELF
            | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)

    private func processEvents(_ state: inout WatcherState, settings: Settings) {
        let events = state.inotify.readEvents()
        guard !events.isEmpty else { return }
        for event in events {
            if event.has(UInt32(IN_Q_OVERFLOW)) {
                // The kernel dropped events: only a full scan can tell what was missed.
                logger.warning(
                    "inotify queue overflowed; rescanning (raise fs.inotify.max_queued_events to avoid this)")
                state.overflowed = true
                // The lost events may include closes: an entry could then hold its file back for minutes.
                openWrites.forgetAll()
                continue
            }
            if event.has(UInt32(IN_IGNORED)) || event.has(UInt32(IN_DELETE_SELF)) || event.has(UInt32(IN_MOVE_SELF)) {
                if let directory = state.directories.removeValue(forKey: event.watch) {
                    state.watches.removeValue(forKey: directory.path)
                    if state.roots.contains(directory.path) {
                        // Its subfolders' watches would keep reporting under the old paths: drop them all,
                        // and watch the tree afresh when the root comes back.
                        forgetTree(directory.path, state: &state)
                        logger.warning(
                            "watched folder disappeared; waiting for it to return",
                            metadata: ["path": "\(directory.path)"])
                        state.missingRoots.insert(directory.path)
                    }
                }
                continue
            }
            guard let directory = state.directories[event.watch], !event.name.isEmpty else { continue }
            let path = directory.path.appending(event.name)
            if event.has(UInt32(IN_ISDIR)) {
                if event.has(UInt32(IN_MOVED_FROM)) {
                    forgetTree(path, state: &state)
                } else if settings[directory.root].recursive,
                    event.has(UInt32(IN_CREATE)) || event.has(UInt32(IN_MOVED_TO)),
                    settings[directory.root].filter.acceptsDirectory(event.name)
                {
                    // Watch first, then scan: a file written between the two is seen by one or the other.
                    try? addTree(path, root: directory.root, state: &state, settings: settings, scanFiles: true)
                }
                continue
            }
            guard settings[directory.root].filter.acceptsFile(event.name) else {
                // Not for IN_MODIFY: a `.part` being written would log a line per write.
                if event.has(UInt32(IN_CLOSE_WRITE)) || event.has(UInt32(IN_MOVED_TO)) || event.has(UInt32(IN_CREATE)) {
                    logIgnored(path, name: event.name, filter: settings[directory.root].filter)
                }
                continue
            }
            if event.has(UInt32(IN_MODIFY)) {
                // Written to again: whatever settle check was running no longer describes the final file.
                openWrites.wrote(path, at: Timestamp.monotonicNanos())
                state.settle.forget(path)
            } else if event.has(UInt32(IN_MOVED_FROM)) || event.has(UInt32(IN_DELETE)) {
                openWrites.closed(path)
            } else if event.has(UInt32(IN_CLOSE_WRITE)) || event.has(UInt32(IN_MOVED_TO)) {
                openWrites.closed(path)
                consider(path, root: directory.root, state: &state, settings: settings)
            } else if event.has(UInt32(IN_CREATE)) {
                // Only things that will never be closed after writing: FIFOs, sockets, devices, symlinks.
                // A regular file announces itself with IN_CLOSE_WRITE when its writer is done.
                if case .success(let link) = FileStatus.of(path, followSymlinks: false), !link.isRegular,
                    case .success(let status) = FileStatus.candidate(path)
                {
                    state.ready.append(
                        FileCandidate(
                            path: path, root: directory.root, size: status.size,
                            mtimeNanos: status.mtimeNanos, source: settings[directory.root].source))
                }
            }
        }
    }

    /// A finished-looking file: queue it now if it has been still for `settle`, else look again when it has.
    private func consider(_ path: RawPath, root: RawPath, state: inout WatcherState, settings: Settings) {
        guard case .success(let status) = FileStatus.candidate(path) else {
            state.settle.forget(path)
            logger.debug("candidate gone before it settled", metadata: ["path": "\(path)"])
            return
        }
        let rules = settings[root]
        if state.settle.closed(
            path, root: root, status: status, settleNanos: rules.settleNanos,
            now: Timestamp.monotonicNanos())
        {
            state.ready.append(
                FileCandidate(
                    path: path, root: root, size: status.size, mtimeNanos: status.mtimeNanos,
                    source: rules.source))
        } else {
            logSettling(path, settleNanos: rules.settleNanos)
        }
    }

    private func processDue(_ state: inout WatcherState, settings: Settings) {
        let now = Timestamp.monotonicNanos()
        for path in state.settle.due(now: now) {
            let status = try? FileStatus.candidate(path).get()
            guard let root = state.settle.root(of: path) else { continue }
            let rules = settings[root]
            if var finished = state.settle.recheck(path, status: status, settleNanos: rules.settleNanos, now: now) {
                finished.source = rules.source
                state.ready.append(finished)
            } else if status != nil, state.settle.isPending(path) {
                logger.debug(
                    "candidate still changing; settling again",
                    metadata: [
                        "path": "\(path)", "settle_ms": "\(rules.settleNanos / 1_000_000)",
                    ])
            }
        }
    }

    /// Writes ready candidates to the table in one transaction. If the database cannot be written (disk full),
    /// they stay in memory and the next loop tries again: ingest pauses, nothing is lost.
    package func flush(_ state: inout WatcherState) {
        guard !state.ready.isEmpty else { return }
        do {
            let results = try store.enqueue(state.ready)
            if logger.logLevel <= .debug { logQueued(state.ready, results: results) }
            let added = results.filter { if case .known = $0 { return false } else { return true } }.count
            state.ready.removeAll(keepingCapacity: true)
            if state.ingestBlocked {
                state.ingestBlocked = false
                logger.notice("database writable again; ingest resumed")
            }
            if added > 0 { workSignal.notifyAll() }
        } catch {
            if !state.ingestBlocked {
                logger.error(
                    "cannot record new files; ingest paused until the database is writable",
                    metadata: ["error": "\(error)", "waiting": "\(state.ready.count)"])
                state.ingestBlocked = true
            }
        }
    }
}

/// The self-pipe other threads write one byte to so the watcher's poll() returns. Non-blocking both ways: a
/// full pipe already means "wake up", and draining never blocks.
package final class WakePipe: Sendable {
    package let readEnd: Int32
    package let writeEnd: Int32

    package init() throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw SystemError(call: "pipe") }
        readEnd = fds[0]
        writeEnd = fds[1]
        for fd in fds {  // pipe2 is not imported into Swift's Glibc
            let flags = fcntl(fd, F_GETFL)
            guard flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0, fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 else {
                let error = SystemError(call: "fcntl")
                close(fds[0])
                close(fds[1])
                throw error
            }
        }
    }

    deinit {
        close(readEnd)
        close(writeEnd)
    }

    /// nil from the write (EAGAIN): the pipe is full, the reader is already due to wake. It cannot fail
    /// otherwise on a pipe this object keeps open with its reader.
    package func wake() {
        var byte: UInt8 = 1
        _ = try? Syscall.nonBlocking("write") { write(writeEnd, &byte, 1) }
    }

    package func drain() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while let count = try? Syscall.nonBlocking("read", { read(readEnd, &buffer, buffer.count) }), count > 0 {}
    }
}
