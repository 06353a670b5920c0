import Glibc
import ImagedropSupport
import ImagedropTestSupport

/// Plain POSIX file helpers: the bench writes many files fast and must know exactly when each was closed.
package enum Files {
    package static func makeTemporaryDirectory(prefix: String, parent: String = "/tmp") throws -> String {
        var template = Array("\(parent)/\(prefix)-XXXXXX".utf8CString)
        guard let created = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw SpawnError(description: "mkdtemp failed")
        }
        return String(cString: created)
    }

    package static func makeDirectory(_ path: String) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            mkdir(current, 0o755)
        }
    }

    /// Writes and closes; returns CLOCK_REALTIME µs right after close(2) returned.
    @discardableResult
    package static func write(_ bytes: [UInt8], to path: String) throws -> Int64 {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SpawnError(description: "open \(path): \(String(cString: strerror(errno)))") }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            guard written > 0 else {
                close(fd)
                throw SpawnError(description: "write \(path) failed")
            }
            offset += written
        }
        close(fd)
        return Clock.realtimeMicros()
    }

    package static func write(text: String, to path: String) throws {
        try write(Array(text.utf8), to: path)
    }

    package static func readText(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var result = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            result.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: result, as: UTF8.self)
    }

    package static func removeTree(_ path: String) {
        guard path.hasPrefix("/tmp/") || path.hasPrefix("/dev/shm/") else { return }
        _ = try? ChildProcess.run("/bin/rm", ["-rf", path], environment: [:], scratch: "/tmp")
    }

    /// `count` distinct PNGs of about `bytes` each, named `prefix00000.png` in `directory`.
    /// Returns their SHA-256 digests (lowercase hex) by index.
    @discardableResult
    package static func makeImages(
        count: Int, bytes: Int, in directory: String, prefix: String = "img",
        seedBase: UInt64, digests: Bool = false
    ) throws -> [String] {
        makeDirectory(directory)
        var result: [String] = []
        for index in 0..<count {
            let image = SampleImages.png(approximateBytes: bytes, seed: seedBase &+ UInt64(index))
            try write(image, to: directory + "/" + name(prefix, index))
            if digests { result.append(SHA256Hasher.hex(of: image)) }
        }
        return result
    }

    package static func name(_ prefix: String, _ index: Int) -> String {
        let digits = String(index)
        return prefix + String(repeating: "0", count: max(0, 6 - digits.count)) + digits + ".png"
    }
}
