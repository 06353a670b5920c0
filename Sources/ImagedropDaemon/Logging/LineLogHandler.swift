import FoundationEssentials
import Glibc
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import Logging
import Synchronization

/// The level in force for every `LineLogHandler`, shared so a SIGHUP reload changes it for loggers that
/// were copied long before (swift-log handlers are values; each copy would otherwise keep the old level).
package final class LogLevelControl: Sendable {
    private let index: Atomic<Int>

    package init(_ level: Logger.Level) { index = Atomic(Self.index(of: level)) }

    package var level: Logger.Level {
        get { Logger.Level.allCases[index.load(ordering: .relaxed)] }
        set { index.store(Self.index(of: newValue), ordering: .relaxed) }
    }

    private static func index(of level: Logger.Level) -> Int { Logger.Level.allCases.firstIndex(of: level)! }
}

/// One event per line on stderr: the message, then stable `key=value` fields. Under systemd the line
/// carries a `<N>` syslog priority that journald turns into the entry's priority (so `journalctl -p warning`
/// works); on a terminal it starts with a UTC timestamp; with `format = "json"` it is one JSON object.
///
/// Each line is one `write(2)` on an unbuffered descriptor: lines from concurrent workers never interleave
/// (pipes guarantee it below PIPE_BUF, 4 KiB), and nothing sits in a buffer when the process is killed.
package struct LineLogHandler: LogHandler {
    package enum Format: String, Sendable, CaseIterable { case text, journal, json }

    package let format: Format
    package let control: LogLevelControl
    package var metadata: Logger.Metadata = [:]
    package var metadataProvider: Logger.MetadataProvider?
    private let fileDescriptor: Int32
    /// stderr's status line when stderr is a terminal: lines are written above it, and per-file details are
    /// left to it (see `isPerFileDetail`).
    private let terminal: TerminalStatusLine?
    /// Set only when code changes one logger's level explicitly; otherwise the shared control decides.
    private var levelOverride: Logger.Level?

    package init(
        format: Format, control: LogLevelControl, metadataProvider: Logger.MetadataProvider? = nil,
        fileDescriptor: Int32 = STDERR_FILENO, terminal: TerminalStatusLine? = nil
    ) {
        self.format = format
        self.control = control
        self.metadataProvider = metadataProvider
        self.fileDescriptor = fileDescriptor
        self.terminal = terminal
    }

    package var logLevel: Logger.Level {
        get { levelOverride ?? control.level }
        set { levelOverride = newValue }
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        // The event's own fields as they are when nothing else is set (the daemon's handlers carry none): a merge
        // into an empty dictionary rehashed every key of every line (1 % of a small upload's CPU).
        var merged: Logger.Metadata
        if metadata.isEmpty, metadataProvider == nil {
            merged = event.metadata ?? [:]
        } else {
            merged = metadata
            if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
            if let own = event.metadata { merged.merge(own) { _, new in new } }
        }
        if let error = event.error, merged["error"] == nil { merged["error"] = .string("\(error)") }
        if let terminal, terminal.isShowing,
            Self.isPerFileDetail(level: event.level, metadata: merged, threshold: logLevel)
        {
            return
        }
        let line = Self.format(
            level: event.level, message: event.message.description, metadata: merged, format: format,
            timestampMillis: format == .journal ? nil : Timestamp.nowMillis())
        if let terminal { terminal.writeLine(line) } else { Self.writeLine(line, to: fileDescriptor) }
    }

    /// A line about one job's ordinary progress (`uploaded`, `already stored`, `upload will be retried`: info
    /// and notice lines that name a `job`) is what the terminal's status line sums up, so it is not printed
    /// there — a thousand uploads would scroll everything else away. Warnings and errors about a job (a
    /// rejected file, a failed upload) are printed; at `debug` (`-v`) everything is, since it was asked for.
    /// Under journald, in a pipe or a file every line is written, as always.
    package static func isPerFileDetail(level: Logger.Level, metadata: Logger.Metadata, threshold: Logger.Level) -> Bool
    {
        threshold > .debug && (level == .info || level == .notice) && metadata["job"] != nil
    }

    /// Installs the handler process-wide and returns the control a reload uses to change the level.
    /// `LoggingSystem.bootstrap` may run once per process: call this once, early in `main`.
    @discardableResult
    package static func bootstrap(
        level: Logger.Level, format: Config.LogFormat,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> LogLevelControl {
        let control = LogLevelControl(level)
        let resolved = resolvedFormat(format, environment: environment)
        let terminal = TerminalStatusLine.stderr
        LoggingSystem.bootstrap { _ in LineLogHandler(format: resolved, control: control, terminal: terminal) }
        return control
    }

    /// `auto` means journal only when stderr *is* the journal stream systemd opened for us: `$JOURNAL_STREAM`
    /// holds that stream's `device:inode`, and a child whose stderr was redirected inherits the variable while
    /// writing somewhere else (systemd.exec(5) asks for exactly this check).
    package static func resolvedFormat(
        _ format: Config.LogFormat, environment: [String: String], fileDescriptor: Int32 = STDERR_FILENO
    ) -> Format {
        switch format {
        case .text: return .text
        case .json: return .json
        case .journal: return .journal
        case .auto:
            guard let stream = environment["JOURNAL_STREAM"] else { return .text }
            let parts = stream.split(separator: ":")
            var info = stat()
            guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]),
                fstat(fileDescriptor, &info) == 0
            else { return .text }
            return UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode ? .journal : .text
        }
    }

    private static func writeLine(_ line: String, to fd: Int32) {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        // Partial writes only happen past PIPE_BUF; finishing them keeps long lines whole, if not atomic.
        // A log that cannot be written has nowhere to report that to: the line is dropped.
        bytes.withUnsafeBytes { raw in _ = try? Syscall.writeAll(fd, raw) }
    }
}

// MARK: - Rendering (pure, so tests need no stderr)

extension LineLogHandler {
    /// Fields that say what happened to which job come first, in this order, so lines line up when read
    /// one under another; other keys follow alphabetically.
    package static let leadingKeys = ["job", "path", "status", "attempt", "cf_code"]

    /// Syslog priority journald reads from a `<N>` prefix (sd-daemon(3)).
    package static func priority(of level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// One line, without the trailing newline. `timestampMillis` is ignored for `journal` (journald stamps
    /// each entry itself).
    package static func format(
        level: Logger.Level, message: String, metadata: Logger.Metadata, format: Format, timestampMillis: Int64?
    ) -> String {
        let keys = orderedKeys(metadata)
        let message = Redaction.redactingBearerTokens(message)
        switch format {
        case .json:
            var fields: [String] = []
            if let timestampMillis {
                fields.append("\"ts\":" + JSONLine.string(Timestamp.iso8601(millis: timestampMillis)))
            }
            fields.append("\"level\":" + JSONLine.string(level.rawValue))
            fields.append("\"msg\":" + JSONLine.string(message))
            for key in keys {
                // A metadata key must not shadow the envelope: `msg` from metadata becomes `_msg`.
                let name = ["ts", "level", "msg"].contains(key) ? "_" + key : key
                fields.append(JSONLine.string(name) + ":" + JSONLine.value(metadata[key]!, key: key))
            }
            return "{" + fields.joined(separator: ",") + "}"
        case .text, .journal:
            // Appended in place into room for a typical line: each `a + b` made a string of its own, and a growing
            // line was copied at every doubling.
            var line = ""
            line.reserveCapacity(256)
            if format == .journal {
                line += "<"
                line += String(priority(of: level))
                line += ">"
            }
            if format == .text, let timestampMillis {
                line += Timestamp.iso8601(millis: timestampMillis)
                line += " "
            }
            line += "level="
            line += level.rawValue
            line += " msg="
            JSONString.append(message, to: &line)
            for key in keys {
                line += " "
                line += Logfmt.key(key)
                line += "="
                line += Logfmt.value(Redaction.redactingBearerTokens(metadata[key]!.description))
            }
            return line
        }
    }

    package static func orderedKeys(_ metadata: Logger.Metadata) -> [String] {
        let leading = leadingKeys.filter { metadata[$0] != nil }
        return leading + metadata.keys.filter { !leadingKeys.contains($0) }.sorted()
    }
}

/// logfmt quoting: a value is bare when it is a plain word, else quoted with `\"`, `\\` and control
/// characters escaped — a newline in a path or an error message must never start a second log line.
package enum Logfmt {
    package static func value(_ text: String) -> String {
        // Bytes, not scalars: every character that needs quotes is ASCII, and no byte of a longer UTF-8
        // sequence is below 0x80.
        let needsQuotes =
            text.isEmpty
            || text.utf8.contains { byte in
                byte <= 0x20 || byte == 0x7F || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "=")
                    || byte == UInt8(ascii: "\\")
            }
        return needsQuotes ? quoted(text) : text
    }

    package static func quoted(_ text: String) -> String { JSONString.quoted(text) }

    /// Keys are code-chosen, but a stray space or `=` would make the line unparseable; `_` keeps it a word.
    package static func key(_ key: String) -> String {
        let clean =
            !key.isEmpty
            && !key.utf8.contains { byte in
                byte <= 0x20 || byte == UInt8(ascii: "=") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
                    || byte == 0x7F
            }
        if clean { return key }
        let cleaned = String(
            key.unicodeScalars.map { scalar -> Character in
                scalar.value <= 0x20 || scalar == "=" || scalar == "\"" || scalar == "\\" || scalar.value == 0x7F
                    ? "_" : Character(scalar)
            })
        return cleaned.isEmpty ? "_" : cleaned
    }
}

/// JSON for one log line, hand-written so key order is stable and no encoder is allocated per event.
package enum JSONLine {
    package static func string(_ text: String) -> String { JSONString.quoted(text) }

    /// Keys whose values are counts, ids or sizes. Callers pass them interpolated (`"\(job.id)"`, a string):
    /// for these keys a whole number is written as a JSON number, so `jq 'select(.job == 12)'` works. Other
    /// keys stay strings even when they look numeric (an image id or a file name may be all digits).
    package static let numericKeys: Set<String> = [
        "job", "attempt", "attempts", "pid", "count", "workers", "worker", "bytes", "size", "cf_code", "exit",
        "hint_ms", "backoff_max_ms", "patience_s", "unwatched", "status_code", "duration_ms", "in_flight", "grace_s",
        "recheck_s", "settle_ms", "delay_ms",
    ]

    package static func value(_ value: Logger.Metadata.Value, key: String) -> String {
        if numericKeys.contains(key), case .string(let text) = value, let number = Int64(text), String(number) == text {
            return text
        }
        return Self.value(value)
    }

    package static func value(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text): return string(Redaction.redactingBearerTokens(text))
        case .stringConvertible(let convertible):
            // Counts and sizes stay numbers so `jq 'select(.attempt > 3)'` works.
            switch convertible {
            case let bool as Bool: return bool ? "true" : "false"
            case let integer as any BinaryInteger: return "\(integer)"
            case let double as Double where double.isFinite: return "\(double)"
            default: return string(Redaction.redactingBearerTokens(convertible.description))
            }
        case .array(let items): return "[" + items.map(Self.value).joined(separator: ",") + "]"
        case .dictionary(let entries):
            let fields = entries.keys.sorted().map { string($0) + ":" + Self.value(entries[$0]!) }
            return "{" + fields.joined(separator: ",") + "}"
        }
    }
}

/// A safety net, not the policy: code must never log a token, but an API error echoed into a message or a
/// header dumped while debugging could carry one, and a log line outlives any rotation of the token.
package enum Redaction {
    package static let placeholder = "<redacted>"

    package static func redactingBearerTokens(_ text: String) -> String {
        guard text.asciiCaseInsensitiveRange(of: "bearer ") != nil else { return text }
        var out = Substring()
        var rest = Substring(text)
        while let match = rest.asciiCaseInsensitiveRange(of: "bearer ") {
            out += rest[..<match.upperBound]
            rest = rest[match.upperBound...]
            let tokenEnd = rest.firstIndex { " \t\r\n\"',;".contains($0) } ?? rest.endIndex
            if tokenEnd > rest.startIndex {
                out += placeholder
                rest = rest[tokenEnd...]
            }
        }
        return String(out + rest)
    }
}
