import Glibc

/// Direct, unbuffered writes to stdout/stderr: one write(2) per line, so nothing is lost on a kill and
/// lines from several threads never interleave.
public enum Console {
    public static func out(_ line: String) { write(line + "\n", to: 1) }
    public static func error(_ line: String) { write("imagedrop: " + line + "\n", to: 2) }

    public static func write(_ text: String, to fd: Int32) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 { if errno == EINTR { continue }; return }
            offset += n
        }
    }
}
