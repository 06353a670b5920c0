import Glibc
import Synchronization

/// The one status line at the bottom of a terminal (`run`, `run --once`, `enqueue` of a big tree): redrawn in
/// place, and cleared before every log line and drawn again after it, so a log line never lands in the middle
/// of it. Log handlers and the daemon share the process-wide instance for stderr; it exists only when stderr
/// is a terminal (journald, pipes and files get plain lines, unchanged).
package final class TerminalStatusLine: Sendable {
    /// nil unless stderr is a terminal.
    package static let stderr: TerminalStatusLine? =
        isatty(STDERR_FILENO) == 1 ? TerminalStatusLine(fileDescriptor: STDERR_FILENO) : nil

    /// Return to column 0 and erase to the end of the line.
    package static let erase = "\r\u{1B}[K"

    private let fileDescriptor: Int32
    private let shown = Mutex<String?>(nil)

    package init(fileDescriptor: Int32) { self.fileDescriptor = fileDescriptor }

    /// Whether a status line is on screen now (per-file lines are then left to the status line).
    package var isShowing: Bool { shown.withLock { $0 != nil } }

    /// Draws `text` in place of the current status line.
    package func show(_ text: String) {
        shown.withLock { current in
            let line = Self.fitted(text, columns: columns)
            current = line
            Console.write(Self.erase + line, to: fileDescriptor)
        }
    }

    /// Leaves `text` on screen as an ordinary line (the final state) and stops redrawing.
    package func finish(_ text: String) {
        shown.withLock { current in
            current = nil
            Console.write(Self.erase + text + (text.isEmpty ? "" : "\n"), to: fileDescriptor)
        }
    }

    /// Writes a log line (without its newline) above the status line: erase, the line, the status line again —
    /// one write(2), under the same lock as `show`, so nothing interleaves.
    package func writeLine(_ line: String) {
        shown.withLock { current in
            Console.write(Self.composed(line, below: current), to: fileDescriptor)
        }
    }

    /// What `writeLine` writes; pure, for tests.
    package static func composed(_ line: String, below status: String?) -> String {
        guard let status else { return line + "\n" }
        return erase + line + "\n" + status
    }

    /// A line longer than the terminal wraps, and `\r` then returns only to the start of its last row: the
    /// rows above would stay on screen at every redraw. Cut it to the width instead.
    package static func fitted(_ text: String, columns: Int?) -> String {
        guard let columns, columns > 1, text.count >= columns else { return text }
        return String(text.prefix(columns - 2)) + "…"
    }

    private var columns: Int? {
        var size = winsize()
        guard ioctl(fileDescriptor, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }
}
