import Glibc
import ImagedropSupport

/// File names on Linux are bytes: the soak writes names that are not valid UTF-8, so every path it touches
/// is a `[UInt8]` and every call goes straight to POSIX.
enum BytePaths {
    static func join(_ parent: [UInt8], _ name: [UInt8]) -> [UInt8] { parent + [UInt8(ascii: "/")] + name }
    static func join(_ parent: [UInt8], _ name: String) -> [UInt8] { join(parent, Array(name.utf8)) }

    static func parent(_ path: [UInt8]) -> [UInt8] {
        guard let slash = path.lastIndex(of: UInt8(ascii: "/")), slash > 0 else { return [UInt8(ascii: "/")] }
        return Array(path[..<slash])
    }

    static func baseName(_ path: [UInt8]) -> [UInt8] {
        guard let slash = path.lastIndex(of: UInt8(ascii: "/")) else { return path }
        return Array(path[(slash + 1)...])
    }

    /// Printable form for reports (invalid bytes as \xNN).
    static func display(_ path: [UInt8]) -> String {
        if let text = String(validating: path, as: UTF8.self) { return text }
        var result = ""
        var index = 0
        while index < path.count {
            let byte = path[index]
            if byte < 0x80 {
                result.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                result += "\\x" + String(byte, radix: 16)
            }
            index += 1
        }
        return result
    }

    static func with<T>(_ path: [UInt8], _ body: (UnsafePointer<CChar>) -> T) -> T {
        (path + [0]).withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { body($0) }
        }
    }

    static func makeDirectories(_ path: [UInt8]) {
        var current: [UInt8] = []
        for component in path.split(separator: UInt8(ascii: "/")) {
            current += [UInt8(ascii: "/")] + component
            _ = with(current) { mkdir($0, 0o755) }
        }
    }

    enum WriteOutcome {
        case written
        case failed(Int32)
    }

    /// Opens (creating or truncating), writes `chunks` with `pauseMicros` between them while the file stays
    /// open (a slow writer), closes.
    @discardableResult
    static func write(_ bytes: [UInt8], to path: [UInt8], chunks: Int = 1, pauseMicros: UInt32 = 0) -> WriteOutcome {
        let fd = with(path) { open($0, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
        guard fd >= 0 else { return .failed(errno) }
        defer { close(fd) }
        let pieces = max(1, min(chunks, max(1, bytes.count)))
        let step = max(1, (bytes.count + pieces - 1) / pieces)
        var offset = 0
        repeat {
            let end = min(bytes.count, offset + step)
            var at = offset
            while at < end {
                let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + at, end - at) }
                if written < 0 {
                    if errno == EINTR { continue }
                    return .failed(errno)
                }
                at += written
            }
            offset = end
            if offset < bytes.count, pauseMicros > 0 { usleep(pauseMicros) }
        } while offset < bytes.count
        return .written
    }

    static func rename(_ from: [UInt8], _ to: [UInt8]) -> Int32 {
        with(from) { a in with(to) { b in Glibc.rename(a, b) == 0 ? 0 : errno } }
    }

    /// 0, or the errno of unlink(2).
    static func unlink(_ path: [UInt8]) -> Int32 {
        with(path) { Glibc.unlink($0) == 0 ? 0 : errno }
    }

    static func symlink(target: [UInt8], at path: [UInt8]) -> Bool {
        with(target) { t in with(path) { p in Glibc.symlink(t, p) == 0 } }
    }

    static func mkfifo(_ path: [UInt8]) -> Bool { with(path) { Glibc.mkfifo($0, 0o644) == 0 } }

    enum Kind { case regular, directory, symlink, other }

    static func kind(_ path: [UInt8]) -> Kind? {
        var info = stat()
        guard with(path, { lstat($0, &info) }) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regular
        case S_IFDIR: return .directory
        case S_IFLNK: return .symlink
        default: return .other
        }
    }

    static func exists(_ path: [UInt8]) -> Bool { kind(path) != nil }

    /// Every entry below `root` (not following symlinks), depth first.
    static func walk(_ root: [UInt8]) -> [(path: [UInt8], kind: Kind)] {
        var result: [(path: [UInt8], kind: Kind)] = []
        var pending = [root]
        var guardCount = 0
        while let directory = pending.popLast(), guardCount < 1_000_000 {
            guardCount += 1
            guard let handle = with(directory, { opendir($0) }) else { continue }
            while let entry = readdir(handle) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
                if name == [46] || name == [46, 46] { continue }
                let path = join(directory, name)
                guard let kind = kind(path) else { continue }
                result.append((path, kind))
                if kind == .directory { pending.append(path) }
            }
            closedir(handle)
        }
        return result
    }

    static func read(_ path: [UInt8]) -> [UInt8]? {
        let fd = with(path) { open($0, O_RDONLY | O_CLOEXEC | O_NONBLOCK) }
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { break }
            result.append(contentsOf: buffer[0..<count])
        }
        return result
    }

    /// Removes a tree the soak made (only below `/tmp/`).
    static func removeTree(_ path: [UInt8]) {
        guard path.starts(with: Array("/tmp/".utf8)) else { return }
        for entry in walk(path).reversed() {
            _ = with(entry.path) { entry.kind == .directory ? rmdir($0) : Glibc.unlink($0) }
        }
        _ = with(path) { rmdir($0) }
    }

    static func sha256(_ bytes: [UInt8]) -> String { SHA256Hasher.hex(of: bytes) }
}
