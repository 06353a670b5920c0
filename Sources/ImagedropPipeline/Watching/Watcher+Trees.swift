import Glibc
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import Logging

/// Watching and listing folders: arming a tree, scanning it, and the folders inotify cannot watch.
extension Watcher {
    /// Watches `directory` (when inotify allows), then lists it: files are considered, subfolders added the
    /// same way. A folder past the watch limit is listed all the same and remembered as unwatched, so scans and
    /// polls keep finding its files. `polling` lists only what no watch covers: watched subfolders are skipped.
    package func addTree(
        _ directory: RawPath, root: RawPath, state: inout WatcherState, settings: Settings,
        scanFiles: Bool, polling: Bool = false
    ) throws {
        heartbeat.beat(.scanning)
        guard try watch(directory, root: root, state: &state) else { return }
        guard let entries = try? DirectoryListing.entries(of: directory) else {
            state.unwatched.removeValue(forKey: directory)  // gone or unreadable: nothing to poll
            return
        }
        for (index, entry) in entries.enumerated() {
            if index % 1000 == 999 { heartbeat.beat(.scanning) }
            let path = directory.appending(entry.name)
            var type = entry.type
            if type == UInt8(DT_UNKNOWN), case .success(let status) = FileStatus.of(path, followSymlinks: false) {
                type = status.isDirectory ? UInt8(DT_DIR) : UInt8(DT_REG)
            }
            if type == UInt8(DT_DIR) {
                guard settings[root].recursive else { continue }
                guard settings[root].filter.acceptsDirectory(entry.name) else {
                    if !polling { logIgnoredFolder(path, name: entry.name, filter: settings[root].filter) }
                    continue
                }
                if polling, state.watches[path] != nil || state.unwatched[path] != nil { continue }
                try? addTree(
                    path, root: root, state: &state, settings: settings, scanFiles: scanFiles, polling: polling)
            } else if scanFiles, settings[root].filter.acceptsFile(entry.name) {
                scanned(path, root: root, state: &state, settings: settings, polling: polling)
            } else if scanFiles, !polling {
                logIgnored(path, name: entry.name, filter: settings[root].filter)
            }
            if state.ready.count >= 2000 { flush(&state) }
        }
    }

    /// Adds the inotify watch. True when the folder should be listed: watched, or unwatchable only for the
    /// watch limit. A root that cannot be watched for another reason is an error for the caller.
    private func watch(_ directory: RawPath, root: RawPath, state: inout WatcherState) throws -> Bool {
        // A watch root may itself be a symlink to the real folder (DESIGN only refuses missing paths and
        // non-directories); below the root, symlinked folders are not followed (no loops, no escapes).
        let mask = directory == root ? Self.directoryMask & ~UInt32(IN_DONT_FOLLOW) : Self.directoryMask
        let inotify = state.inotify
        do {
            let wd = try addWatch(directory) { try inotify.addWatch(directory, mask: mask) }
            state.directories[wd] = WatchedDirectory(path: directory, root: root)
            state.watches[directory] = wd
            if state.unwatched.removeValue(forKey: directory) != nil, state.unwatched.isEmpty {
                logger.notice("every folder is watched again")
            }
            return true
        } catch let error as SystemError where error.errno == ENOSPC {
            if state.unwatched.isEmpty {
                logger.error(
                    """
                    inotify watch limit reached; folders past it are polled every \(Self.unwatchedPollSeconds) s \
                    and listed by every rescan (raise fs.inotify.max_user_watches)
                    """, metadata: ["path": "\(directory)"])
            }
            state.unwatched[directory] = root
            return true
        } catch  where directory == root {
            throw error
        } catch {
            return false
        }
    }

    /// A file found by listing rather than an event: take it if it has been still for `settle`. A poll of an
    /// unwatched folder skips versions it already handed on since the last full rescan.
    private func scanned(_ path: RawPath, root: RawPath, state: inout WatcherState, settings: Settings, polling: Bool) {
        // A file written to since its last close is still open: its writer may only have paused, and an
        // old mtime says nothing then. Its IN_CLOSE_WRITE will bring it.
        guard !state.settle.isPending(path) else { return }
        if openWrites.isOpen(path, now: Timestamp.monotonicNanos()) {
            logger.debug("candidate still open for writing; waiting for its close", metadata: ["path": "\(path)"])
            return
        }
        guard case .success(let status) = FileStatus.candidate(path) else { return }
        if polling {
            let version = PolledVersion(size: status.size, mtimeNanos: status.mtimeNanos)
            if state.polled[path] == version { return }
            state.polled[path] = version
        }
        let rules = settings[root]
        if state.settle.listed(
            path, root: root, status: status, settleNanos: rules.settleNanos,
            now: Timestamp.monotonicNanos(), wallNanos: Timestamp.nowMillis() * 1_000_000)
        {
            state.ready.append(
                FileCandidate(
                    path: path, root: root, size: status.size, mtimeNanos: status.mtimeNanos,
                    source: rules.source))
        } else {
            logSettling(path, settleNanos: rules.settleNanos)
        }
    }

    package func forgetTree(_ directory: RawPath, state: inout WatcherState) {
        for (path, wd) in state.watches where path == directory || path.relative(to: directory) != nil {
            state.inotify.removeWatch(wd)
            state.watches.removeValue(forKey: path)
            state.directories.removeValue(forKey: wd)
        }
        for path in state.unwatched.keys where path == directory || path.relative(to: directory) != nil {
            state.unwatched.removeValue(forKey: path)
        }
    }

    package func reviveMissingRoots(_ state: inout WatcherState, settings: Settings) {
        for root in state.missingRoots {
            guard case .success(let status) = FileStatus.of(root), status.isDirectory else { continue }
            state.missingRoots.remove(root)
            logger.notice("watched folder is back; scanning it", metadata: ["path": "\(root)"])
            try? addTree(root, root: root, state: &state, settings: settings, scanFiles: true)
        }
    }

    package func rescan(_ state: inout WatcherState, settings: Settings) {
        state.polled.removeAll()
        for root in state.roots where !state.missingRoots.contains(root) {
            try? addTree(root, root: root, state: &state, settings: settings, scanFiles: true)
        }
    }

    /// Lists the folders inotify does not watch (each try also asks for the watch again: the limit may have
    /// been raised, or other watches freed). A vanished unwatched root waits for its return like a watched one.
    package func pollUnwatched(_ state: inout WatcherState, settings: Settings) {
        for (directory, root) in state.unwatched.sorted(by: { $0.key < $1.key }) {
            guard state.unwatched[directory] != nil else { continue }  // dropped with a parent meanwhile
            guard case .success(let status) = FileStatus.of(directory), status.isDirectory else {
                state.unwatched.removeValue(forKey: directory)
                if state.roots.contains(directory) {
                    forgetTree(directory, state: &state)
                    logger.warning(
                        "watched folder disappeared; waiting for it to return", metadata: ["path": "\(directory)"])
                    state.missingRoots.insert(directory)
                }
                continue
            }
            try? addTree(directory, root: root, state: &state, settings: settings, scanFiles: true, polling: true)
        }
    }
}

package struct WatchedDirectory {
    package var path: RawPath
    package var root: RawPath
}

package struct Pending {
    package var root: RawPath
    package var status: FileStatus
    package var due: UInt64
}

package struct PolledVersion: Equatable {
    package var size: Int
    package var mtimeNanos: Int64
}

/// Everything the watcher knows. Owned by the watcher thread (and by `arm()` before that thread starts).
package struct WatcherState: ~Copyable {
    package let inotify: Inotify
    package var roots: [RawPath] = []
    package var directories: [Int32: WatchedDirectory] = [:]
    package var watches: [RawPath: Int32] = [:]
    /// Folders listed by scans and polls because inotify would not watch them (ENOSPC), with their root.
    package var unwatched: [RawPath: RawPath] = [:]
    /// Versions a poll of an unwatched folder already handed on (cleared by each full rescan).
    package var polled: [RawPath: PolledVersion] = [:]
    package var settle = SettleTracker()
    package var ready: [FileCandidate] = []
    package var missingRoots: Set<RawPath> = []
    package var overflowed = false
    package var ingestBlocked = false

    package init(inotify: Inotify) { self.inotify = inotify }
}
