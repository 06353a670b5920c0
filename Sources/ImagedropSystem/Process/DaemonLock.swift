import ImagedropSupport
import Glibc

/// One daemon per database: an exclusive flock on `<database>.lock`, which also records the holder's pid.
/// The kernel drops the lock when the process dies (even by SIGKILL), so a crash never leaves it stale.
public final class DaemonLock: Sendable {
    public let path: String
    private let fileDescriptor: Int32

    public struct Held: Error, CustomStringConvertible, Sendable {
        public let pid: Int?
        public let database: String
        public var description: String {
            "another imagedrop daemon\(pid.map { " (pid \($0))" } ?? "") is already running on \(database)"
        }
    }

    public static func lockPath(database: String) -> String { database + ".lock" }

    public init(database: String) throws {
        path = Self.lockPath(database: database)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemError(call: "open \(path)") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let pid = Self.readPID(fd)
            close(fd)
            throw Held(pid: pid, database: database)
        }
        let text = Array("\(getpid())\n".utf8)
        ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        fileDescriptor = fd
    }

    deinit { close(fileDescriptor) }

    /// Whether a daemon holds the lock now, and its pid; for `status`, which must not take the lock itself
    /// for longer than the probe.
    public static func probe(database: String) -> (running: Bool, pid: Int?) {
        let fd = open(lockPath(database: database), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return (false, nil) }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return (false, nil)
        }
        return (true, readPID(fd))
    }

    private static func readPID(_ fd: Int32) -> Int? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return Int(String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

extension String {
    package func trimmingCharacters(in set: Set<Character>) -> String {
        var text = Substring(self)
        while let first = text.first, set.contains(first) { text.removeFirst() }
        while let last = text.last, set.contains(last) { text.removeLast() }
        return String(text)
    }
}

extension Set where Element == Character {
    package static let whitespacesAndNewlines: Set<Character> = [" ", "\t", "\n", "\r"]
}
