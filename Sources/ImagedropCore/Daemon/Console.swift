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

/// A single progress line redrawn in place on a terminal (`run --once`, `enqueue` of a large folder).
public final class ProgressLine {
    private let enabled = isatty(2) == 1
    public init() {}
    public func show(_ text: String) { if enabled { Console.write("\r\u{1B}[K" + text, to: 2) } }
    public func finish(_ text: String) { if enabled { Console.write("\r\u{1B}[K" + text + "\n", to: 2) } }
}
