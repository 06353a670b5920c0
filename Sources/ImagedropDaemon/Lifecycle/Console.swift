import ImagedropSystem
import Glibc

/// Direct, unbuffered writes to stdout/stderr: one write(2) per line, so nothing is lost on a kill and
/// lines from several threads never interleave.
public enum Console {
    public static func out(_ line: String) { write(line + "\n", to: 1) }
    public static func error(_ line: String) { write("imagedrop: " + line + "\n", to: 2) }

    public static func write(_ text: String, to fd: Int32) {
        // A closed or full stdout/stderr has nowhere to report to: the line is dropped.
        Array(text.utf8).withUnsafeBytes { raw in _ = try? Syscall.writeAll(fd, raw) }
    }
}
