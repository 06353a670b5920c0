import Glibc
import ImagedropSupport
import Logging
import Synchronization

/// Turns "a file appeared in a drop folder" into a queued job: the one place that decides what counts as a
/// finished file.
///
/// A file is taken once it was closed after writing (IN_CLOSE_WRITE) or renamed in (IN_MOVED_TO) and its
/// mtime and size have not changed for `settle_ms`. New folders are watched and then scanned, so files
/// written before the watch existed are not lost. A scan (at start-up, every `rescan_interval_s`, and after
/// the kernel's queue overflowed) lists every folder and queues what the table does not know yet; the table's
/// idempotent insert makes re-seeing a file harmless.
public final class Watcher: Sendable {
    private let roots: [RawPath]
    private let state: Mutex<WatcherState>
    private let store: JobStore
    private let workSignal: WorkSignal
    private let logger: Logger
    private let wakePipe: (read: Int32, write: Int32)
    private let stopFlag = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)
    private let settings: Mutex<Settings>

    struct Settings: Sendable {
        var filter: PathFilter
        var recursive: Bool
        var settleNanos: UInt64
        var rescanNanos: UInt64
    }


    public init(config: Config, store: JobStore, workSignal: WorkSignal, logger: Logger) throws {
        roots = config.watch.paths.map { RawPath($0) }
        self.store = store
        self.workSignal = workSignal
        self.logger = logger
        settings = Mutex(Self.settings(from: config))
        let inotify = try Inotify()
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw SystemError(call: "pipe") }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        wakePipe = (fds[0], fds[1])
        state = Mutex(WatcherState(inotify: inotify))
    }

    deinit {
        close(wakePipe.read)
        close(wakePipe.write)
    }

    static func settings(from config: Config) -> Settings {
        Settings(filter: PathFilter(config: config.watch), recursive: config.watch.recursive,
                 settleNanos: UInt64(config.watch.settleMillis) * 1_000_000,
                 rescanNanos: UInt64(config.watch.rescanIntervalSeconds) * 1_000_000_000)
    }

    /// Applies a reloaded config's filter, settle time and rescan interval (watch roots need a new Watcher).
    public func update(config: Config) {
        settings.withLock { $0 = Self.settings(from: config) }
        requestRescan()
    }

    /// Arms the watches and runs the start-up scan, queueing what is already there. Returns when both are
    /// done, so READY=1 can follow.
    public func arm() throws {
        let current = settings.withLock { $0 }
        try state.withLock { state in
            for root in roots {
                try addTree(root, root: root, state: &state, settings: current, scanFiles: true)
            }
            flush(&state)
        }
    }

    /// Runs the event loop on the calling thread until `stop()`.
    public func run() {
        var lastScan = Timestamp.monotonicNanos()
        while !stopFlag.load(ordering: .acquiring) {
            let current = settings.withLock { $0 }
            let now = Timestamp.monotonicNanos()
            var timeoutNanos: UInt64 = 1_000_000_000
            let nextDue = state.withLock { $0.pending.values.map(\.due).min() }
            if let nextDue { timeoutNanos = min(timeoutNanos, nextDue > now ? nextDue - now : 0) }
            let inotifyFD = state.withLock { $0.inotify.fileDescriptor }
            var fds = [pollfd(fd: inotifyFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: wakePipe.read, events: Int16(POLLIN), revents: 0)]
            let timeoutMillis = Int32(min(timeoutNanos / 1_000_000 + (timeoutNanos % 1_000_000 > 0 ? 1 : 0), 1000))
            _ = poll(&fds, 2, timeoutMillis)
            if fds[1].revents != 0 { drainWakePipe() }

            let rescanDue = current.rescanNanos > 0 && Timestamp.monotonicNanos() - lastScan >= current.rescanNanos
            let wanted = state.withLock { state -> Bool in
                processEvents(&state, settings: current)
                processDue(&state, settings: current)
                reviveMissingRoots(&state, settings: current)
                let wanted = state.rescanRequested || rescanDue
                state.rescanRequested = false
                flush(&state)
                return wanted
            }
            if wanted {
                rescan(settings: current)
                lastScan = Timestamp.monotonicNanos()
            }
        }
        finished.store(true, ordering: .releasing)
    }

    public func stop() {
        stopFlag.store(true, ordering: .releasing)
        wake()
    }

    public func requestRescan() {
        state.withLock { $0.rescanRequested = true }
        wake()
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakePipe.write, &byte, 1)
    }

    private func drainWakePipe() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(wakePipe.read, &buffer, buffer.count) > 0 {}
    }

    // MARK: - Events

    private static let directoryMask = UInt32(
        IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR
            | IN_DONT_FOLLOW | IN_EXCL_UNLINK)

    private func processEvents(_ state: inout WatcherState, settings: Settings) {
        let events = state.inotify.readEvents()
        guard !events.isEmpty else { return }
        for event in events {
            if event.has(UInt32(IN_Q_OVERFLOW)) {
                // The kernel dropped events: only a full scan can tell what was missed.
                logger.warning("inotify queue overflowed; rescanning (raise fs.inotify.max_queued_events to avoid this)")
                state.rescanRequested = true
                continue
            }
            if event.has(UInt32(IN_IGNORED)) || event.has(UInt32(IN_DELETE_SELF)) || event.has(UInt32(IN_MOVE_SELF)) {
                if let directory = state.directories.removeValue(forKey: event.watch) {
                    state.watches.removeValue(forKey: directory.path)
                    if roots.contains(directory.path) {
                        // Its subfolders' watches would keep reporting under the old paths: drop them all,
                        // and watch the tree afresh when the root comes back.
                        forgetTree(directory.path, state: &state)
                        logger.warning("watched folder disappeared; waiting for it to return", metadata: ["path": "\(directory.path)"])
                        state.missingRoots.insert(directory.path)
                    }
                }
                continue
            }
            guard let directory = state.directories[event.watch], !event.name.isEmpty else { continue }
            let path = directory.path.appending(event.name)
            let isDirectory = event.has(UInt32(IN_ISDIR))
            if isDirectory {
                if event.has(UInt32(IN_MOVED_FROM)) {
                    forgetTree(path, state: &state)
                } else if settings.recursive, event.has(UInt32(IN_CREATE)) || event.has(UInt32(IN_MOVED_TO)),
                          settings.filter.acceptsDirectory(event.name) {
                    // Watch first, then scan: a file written between the two is seen by one or the other.
                    try? addTree(path, root: directory.root, state: &state, settings: settings, scanFiles: true)
                }
                continue
            }
            guard settings.filter.acceptsFile(event.name) else { continue }
            if event.has(UInt32(IN_CLOSE_WRITE)) || event.has(UInt32(IN_MOVED_TO)) {
                consider(path, root: directory.root, state: &state, settings: settings)
            } else if event.has(UInt32(IN_CREATE)) {
                // Only things that will never be closed after writing: FIFOs, sockets, devices, symlinks.
                // A regular file announces itself with IN_CLOSE_WRITE when its writer is done.
                if case .success(let link) = FileStatus.of(path, followSymlinks: false), !link.isRegular,
                   case .success(let status) = FileStatus.candidate(path) {
                    state.ready.append(FileCandidate(path: path, root: directory.root, size: status.size,
                                                     mtimeNanos: status.mtimeNanos))
                }
            }
        }
    }

    /// A finished-looking file: queue it now if it has been still for `settle`, else look again when it has.
    private func consider(_ path: RawPath, root: RawPath, state: inout WatcherState, settings: Settings) {
        guard case .success(let status) = FileStatus.candidate(path) else {
            state.pending.removeValue(forKey: path)
            return
        }
        if !status.isRegular {
            state.ready.append(FileCandidate(path: path, root: root, size: status.size, mtimeNanos: status.mtimeNanos))
            return
        }
        let now = Timestamp.monotonicNanos()
        if settings.settleNanos == 0 {
            state.pending.removeValue(forKey: path)
            state.ready.append(FileCandidate(path: path, root: root, size: status.size, mtimeNanos: status.mtimeNanos))
            return
        }
        state.pending[path] = Pending(root: root, status: status, due: now + settings.settleNanos)
    }

    private func processDue(_ state: inout WatcherState, settings: Settings) {
        let now = Timestamp.monotonicNanos()
        let due = state.pending.filter { $0.value.due <= now }
        for (path, pending) in due {
            guard case .success(let status) = FileStatus.candidate(path) else {
                state.pending.removeValue(forKey: path)
                continue
            }
            if status.size != pending.status.size || status.mtimeNanos != pending.status.mtimeNanos {
                // Still being written: wait another settle period from now.
                state.pending[path] = Pending(root: pending.root, status: status, due: now + settings.settleNanos)
                continue
            }
            state.pending.removeValue(forKey: path)
            state.ready.append(FileCandidate(path: path, root: pending.root, size: status.size, mtimeNanos: status.mtimeNanos))
        }
    }

    /// Writes ready candidates to the table in one transaction. If the database cannot be written (disk full),
    /// they stay in memory and the next loop tries again: ingest pauses, nothing is lost.
    private func flush(_ state: inout WatcherState) {
        guard !state.ready.isEmpty else { return }
        do {
            let results = try store.enqueue(state.ready)
            let added = results.filter { if case .known = $0 { return false } else { return true } }.count
            state.ready.removeAll(keepingCapacity: true)
            if state.ingestBlocked {
                state.ingestBlocked = false
                logger.notice("database writable again; ingest resumed")
            }
            if added > 0 { workSignal.notifyAll() }
        } catch {
            if !state.ingestBlocked {
                logger.error("cannot record new files; ingest paused until the database is writable",
                             metadata: ["error": "\(error)", "waiting": "\(state.ready.count)"])
                state.ingestBlocked = true
            }
        }
    }

    // MARK: - Trees

    private func addTree(_ directory: RawPath, root: RawPath, state: inout WatcherState, settings: Settings, scanFiles: Bool) throws {
        let wd: Int32
        do {
            // A watch root may itself be a symlink to the real folder (DESIGN only refuses missing paths and
            // non-directories); below the root, symlinked folders are not followed (no loops, no escapes).
            let mask = directory == root ? Self.directoryMask & ~UInt32(IN_DONT_FOLLOW) : Self.directoryMask
            wd = try state.inotify.addWatch(directory, mask: mask)
        } catch let error as SystemError {
            if error.errno == ENOSPC {
                logger.error("inotify watch limit reached; raise fs.inotify.max_user_watches (sysctl) — relying on rescans",
                             metadata: ["path": "\(directory)"])
            } else if directory == root {
                throw error
            }
            return
        }
        state.directories[wd] = WatchedDirectory(path: directory, root: root)
        state.watches[directory] = wd
        guard let entries = try? DirectoryListing.entries(of: directory) else { return }
        for entry in entries {
            let path = directory.appending(entry.name)
            var type = entry.type
            if type == UInt8(DT_UNKNOWN), case .success(let status) = FileStatus.of(path, followSymlinks: false) {
                type = status.isDirectory ? UInt8(DT_DIR) : UInt8(DT_REG)
            }
            if type == UInt8(DT_DIR) {
                if settings.recursive, settings.filter.acceptsDirectory(entry.name) {
                    try? addTree(path, root: root, state: &state, settings: settings, scanFiles: scanFiles)
                }
            } else if scanFiles, settings.filter.acceptsFile(entry.name) {
                scanned(path, root: root, state: &state, settings: settings)
            }
            if state.ready.count >= 2000 { flush(&state) }
        }
    }

    /// A file found by a scan rather than an event: take it if it has been still for `settle`.
    private func scanned(_ path: RawPath, root: RawPath, state: inout WatcherState, settings: Settings) {
        guard state.pending[path] == nil, case .success(let status) = FileStatus.candidate(path) else { return }
        let ageNanos = Timestamp.nowMillis() * 1_000_000 - status.mtimeNanos
        if !status.isRegular || settings.settleNanos == 0 || ageNanos >= Int64(settings.settleNanos) {
            state.ready.append(FileCandidate(path: path, root: root, size: status.size, mtimeNanos: status.mtimeNanos))
        } else {
            state.pending[path] = Pending(root: root, status: status, due: Timestamp.monotonicNanos() + settings.settleNanos)
        }
    }

    private func forgetTree(_ directory: RawPath, state: inout WatcherState) {
        for (path, wd) in state.watches where path == directory || path.relative(to: directory) != nil {
            state.inotify.removeWatch(wd)
            state.watches.removeValue(forKey: path)
            state.directories.removeValue(forKey: wd)
        }
    }

    private func reviveMissingRoots(_ state: inout WatcherState, settings: Settings) {
        for root in state.missingRoots {
            guard case .success(let status) = FileStatus.of(root), status.isDirectory else { continue }
            state.missingRoots.remove(root)
            logger.notice("watched folder is back; scanning it", metadata: ["path": "\(root)"])
            try? addTree(root, root: root, state: &state, settings: settings, scanFiles: true)
        }
    }

    private func rescan(settings: Settings) {
        state.withLock { state in
            for root in roots where !state.missingRoots.contains(root) {
                try? addTree(root, root: root, state: &state, settings: settings, scanFiles: true)
            }
            flush(&state)
        }
    }
}

struct WatchedDirectory {
    var path: RawPath
    var root: RawPath
}

struct Pending {
    var root: RawPath
    var status: FileStatus
    var due: UInt64
}

/// Everything the watcher thread mutates, kept behind one Mutex (arm() runs on the starting thread).
struct WatcherState: ~Copyable {
    let inotify: Inotify
    var directories: [Int32: WatchedDirectory] = [:]
    var watches: [RawPath: Int32] = [:]
    var pending: [RawPath: Pending] = [:]
    var ready: [FileCandidate] = []
    var missingRoots: Set<RawPath> = []
    var rescanRequested = false
    var ingestBlocked = false

    init(inotify: Inotify) { self.inotify = inotify }
}
