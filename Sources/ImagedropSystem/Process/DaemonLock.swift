import CCrashJournal
import Glibc

/// One daemon per database: an exclusive flock on `<database>.lock`, which also records the holder's pid.
/// The kernel drops the lock when the process dies (even by SIGKILL), so a crash never leaves it stale.
package final class DaemonLock: Sendable {
    package let path: String
    private let fileDescriptor: Int32
    /// The fatal signal the previous daemon on this database died of, as its crash journal noted it (see
    /// `journalCrashes`); nil after a clean stop, a kill -9 or a power cut, which leave no note.
    package let previousCrashSignal: Int32?
    /// Where the crash note goes: past the pid line, which `readPID` reads alone.
    private static let crashNoteOffset = 64

    package struct Held: Error, CustomStringConvertible, Sendable {
        package let pid: Int?
        package let database: String
        package var description: String {
            "another imagedrop daemon\(pid.map { " (pid \($0))" } ?? "") is already running on \(database)"
        }
    }

    package static func lockPath(database: String) -> String { database + ".lock" }

    package init(database: String) throws {
        path = Self.lockPath(database: database)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemError(call: "open \(path)") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let pid = Self.readPID(fd)
            close(fd)
            throw Held(pid: pid, database: database)
        }
        previousCrashSignal = Self.readCrashNote(fd)
        let text = Array("\(getpid())\n".utf8)
        ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        fileDescriptor = fd
        // Kept until the jobs it concerns are recovered (`clearCrashNote`): a start that fails before that must
        // not forget the crash.
        if let signal = previousCrashSignal { Self.writeCrashNote(fd, signal: signal) }
    }

    deinit { close(fileDescriptor) }

    /// From now on a fatal signal notes itself in this lock file before the process dies, for the next start
    /// (`previousCrashSignal`): a crash counts against the jobs it held, a kill does not.
    package func journalCrashes() {
        imagedrop_crash_journal_install(fileDescriptor, Self.crashNoteOffset)
    }

    /// The jobs the crashed daemon held have been dealt with: the next start must not count them again.
    package func clearCrashNote() {
        ftruncate(fileDescriptor, off_t(Self.crashNoteOffset))
    }

    private static func writeCrashNote(_ fd: Int32, signal: Int32) {
        let note = Array("crash signal \(signal)\n".utf8)
        _ = note.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(crashNoteOffset)) }
    }

    private static func readCrashNote(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(crashNoteOffset)) }
        let prefix = Array("crash signal ".utf8)
        guard count > prefix.count, buffer.starts(with: prefix) else { return nil }
        let digits = buffer[prefix.count..<count].prefix { $0 >= 0x30 && $0 <= 0x39 }
        return digits.isEmpty ? nil : Int32(String(decoding: digits, as: UTF8.self))
    }

    /// Whether a daemon holds the lock now, and its pid; for `status`, which must not take the lock itself
    /// for longer than the probe.
    package static func probe(database: String) -> (running: Bool, pid: Int?) {
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
        let line = buffer[0..<count].prefix { $0 != UInt8(ascii: "\n") && $0 != 0 }
        return Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
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
