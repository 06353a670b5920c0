/// What the driver knows about every file it made: the content each path holds now (as far as the driver
/// can tell: the daemon may have moved it to `done_dir`/`failed_dir` since), and the copies whose fate it
/// cannot know (a file replaced or deleted at a moment the daemon may have moved it first).
struct Model {
    enum Special: String {
        case fifo
        case symlinkOut = "symlink-out"
    }

    struct Entry {
        /// nil for a FIFO or a symlink (`special`).
        var content: Content.Summary?
        var special: Special?
        var writtenAt: Double
        var valid: Bool { content?.valid ?? false }
    }

    /// Path → what it holds now.
    private(set) var live: [[UInt8]: Entry] = [:]
    /// Contents that must still exist once each, somewhere below the three folders, though their path left
    /// the model (deleted after the daemon had moved it: unlink said ENOENT).
    private(set) var movedAway: [String: Int] = [:]
    /// Contents that may exist once more each (replaced or deleted, perhaps after the daemon moved them).
    private(set) var optional: [String: Int] = [:]
    /// Every valid content ever written: the only bytes that may be stored.
    private(set) var everValid: [String: Content.Kind] = [:]
    /// Every invalid content ever written (and symlinks' outside targets): none may reach the emulator.
    private(set) var badBytes: Set<String> = []
    /// Valid contents that were superseded (rewritten, deleted): may be stored at most once, need not be.
    private(set) var superseded: Set<String> = []
    /// One line per change, for the kept folder's `actions.log` and for the checks' details.
    private(set) var journal: [String] = []
    private(set) var files = 0
    private(set) var validWrites = 0
    private(set) var badWrites = 0

    /// Set when a move of this path's previous version may have happened: the driver only replaces files by
    /// rename or deletes them while moves are on, never rewrites them in place.
    mutating func wrote(_ content: Content, at path: [UInt8], now: Double, previousMayHaveMoved: Bool) {
        retire(path, mayHaveMoved: previousMayHaveMoved)
        note(
            now,
            "wrote \(content.kind.rawValue) \(content.sha256) at \(BytePaths.display(path))\(previousMayHaveMoved ? " (replacing; may have moved)" : "")"
        )
        live[path] = Entry(content: content.summary, special: nil, writtenAt: now)
        files += 1
        if content.valid {
            everValid[content.sha256] = content.kind
            validWrites += 1
        } else {
            badBytes.insert(content.sha256)
            badWrites += 1
        }
    }

    mutating func made(_ special: Special, at path: [UInt8], outsideTarget: Content? = nil, now: Double) {
        retire(path, mayHaveMoved: true)
        note(
            now,
            "made \(special.rawValue) at \(BytePaths.display(path))\(outsideTarget.map { " to " + $0.sha256 } ?? "")")
        live[path] = Entry(content: nil, special: special, writtenAt: now)
        files += 1
        badWrites += 1
        if let outsideTarget { badBytes.insert(outsideTarget.sha256) }
    }

    /// The driver unlinked `path`: `errno` 0 means the file was there and is gone; ENOENT means the daemon had
    /// moved it away, so its bytes must still exist.
    mutating func deleted(_ path: [UInt8], errno: Int32, now: Double) {
        guard let entry = live.removeValue(forKey: path) else { return }
        note(
            now,
            "deleted \(entry.content?.sha256 ?? entry.special?.rawValue ?? "?") at \(BytePaths.display(path)): \(errno == 0 ? "gone" : "ENOENT, moved away")"
        )
        guard let content = entry.content else { return }
        if errno == 0 {
            if content.valid { superseded.insert(content.sha256) }
        } else {
            movedAway[content.sha256, default: 0] += 1
        }
    }

    private mutating func note(_ now: Double, _ line: String) {
        journal.append(String(format: "%.3f ", now) + line)
    }

    func mentions(_ sha: String) -> [String] { journal.filter { $0.contains(sha) } }

    private mutating func retire(_ path: [UInt8], mayHaveMoved: Bool) {
        guard let old = live.removeValue(forKey: path), let content = old.content else { return }
        if mayHaveMoved { optional[content.sha256, default: 0] += 1 }
        if content.valid { superseded.insert(content.sha256) }
    }

    func paths(under prefix: [UInt8]) -> [[UInt8]] {
        let withSlash = prefix + [UInt8(ascii: "/")]
        return live.keys.filter { $0.starts(with: withSlash) }.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// Sorted so a seed's picks do not depend on hashing order.
    var sortedPaths: [[UInt8]] { live.keys.sorted { $0.lexicographicallyPrecedes($1) } }

    /// The multiset of contents that must exist below the three folders, and how many more may.
    func expectedCopies() -> (required: [String: Int], extra: [String: Int]) {
        var required = movedAway
        for entry in live.values { if let content = entry.content { required[content.sha256, default: 0] += 1 } }
        return (required, optional)
    }

    /// The valid contents that are some path's final content (or moved away): each must be stored.
    var mustBeStored: Set<String> {
        var result = Set(movedAway.keys.filter { everValid[$0] != nil })
        for entry in live.values where entry.valid { result.insert(entry.content!.sha256) }
        return result
    }
}
