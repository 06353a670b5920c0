import Glibc
import ImagedropSystem

/// Direct, unbuffered writes to stdout/stderr: one write(2) per line, so nothing is lost on a kill and
/// lines from several threads never interleave.
package enum Console {
    package static func out(_ line: String) { write(line + "\n", to: 1) }
    package static func error(_ line: String) { write("imagedrop: " + line + "\n", to: 2) }

    package static func write(_ text: String, to fd: Int32) {
        // A closed or full stdout/stderr has nowhere to report to: the line is dropped.
        Array(text.utf8).withUnsafeBytes { raw in _ = try? Syscall.writeAll(fd, raw) }
    }

    /// All of stdin (`enqueue --urls-from -`); nil when it cannot be read.
    package static func readStandardInput() -> [UInt8]? {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let got = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if got < 0, errno == EINTR { continue }
            if got < 0 { return nil }
            if got == 0 { return bytes }
            bytes += chunk[0..<got]
        }
    }
}
