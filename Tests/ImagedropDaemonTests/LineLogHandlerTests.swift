import Foundation
import Glibc
import ImagedropTestSupport
import Logging
import Testing

@testable import ImagedropDaemon

@Suite("LineLogHandler")
struct LineLogHandlerTests {
    private let uploaded: Logger.Metadata = [
        "cf_code": "5455", "attempt": .stringConvertible(1), "status": "done", "path": "/x y.jpg", "job": "12",
    ]

    @Test("Text lines start with a UTC timestamp and put job fields first in a fixed order")
    func textLine() {
        let line = LineLogHandler.format(
            level: .info, message: "uploaded", metadata: uploaded.merging(["bytes": "10"]) { $1 }, format: .text,
            timestampMillis: 1_764_417_600_123)
        #expect(
            line
                == #"2025-11-29T12:00:00.123Z level=info msg="uploaded" job=12 path="/x y.jpg" status=done attempt=1 cf_code=5455 bytes=10"#
        )
    }

    @Test("Journal lines carry the syslog priority and no timestamp")
    func journalLine() {
        let line = LineLogHandler.format(
            level: .error, message: "upload failed", metadata: ["job": "3"], format: .journal, timestampMillis: 1)
        #expect(line == #"<3>level=error msg="upload failed" job=3"#)
        let priorities = Logger.Level.allCases.map(LineLogHandler.priority(of:))
        #expect(priorities == [7, 7, 6, 5, 4, 3, 2])
    }

    @Test("Quotes, backslashes, equals signs and newlines are escaped so one event stays one line")
    func escaping() {
        let line = LineLogHandler.format(
            level: .warning, message: "two\nlines", metadata: ["path": #"/in/a"b\c=d.jpg"#, "empty": ""],
            format: .journal, timestampMillis: nil)
        #expect(!line.contains("\n"))
        #expect(line == #"<4>level=warning msg="two\nlines" path="/in/a\"b\\c=d.jpg" empty="""#)
    }

    @Test("JSON lines are one object with ts, level, msg, typed metadata, and parse back")
    func jsonLine() throws {
        let line = LineLogHandler.format(
            level: .notice, message: "paused: \"token refused\"",
            metadata: uploaded.merging(["msg": "shadow", "tags": ["a", "b"], "ok": .stringConvertible(true)]) { $1 },
            format: .json, timestampMillis: 0)
        #expect(!line.contains("\n"))
        #expect(
            line.hasPrefix(
                #"{"ts":"1970-01-01T00:00:00.000Z","level":"notice","msg":"paused: \"token refused\"","job":12"#))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["attempt"] as? Int == 1)
        // Counts given as interpolated strings are numbers; a path stays a string even when it is all digits.
        #expect(object["job"] as? Int == 12 && object["cf_code"] as? Int == 5455)
        let digits = LineLogHandler.format(
            level: .info, message: "m", metadata: ["path": "123", "job": "12x"], format: .json,
            timestampMillis: 0)
        #expect(digits.contains(#""path":"123""#) && digits.contains(#""job":"12x""#), "\(digits)")
        #expect(object["ok"] as? Bool == true)
        #expect(object["_msg"] as? String == "shadow")
        #expect(object["tags"] as? [String] == ["a", "b"])
    }

    @Test("A bearer token in a message or a metadata value is redacted in every format")
    func redaction() {
        for format in LineLogHandler.Format.allCases {
            let line = LineLogHandler.format(
                level: .debug, message: "sent Authorization: Bearer abc.DEF-123_x",
                metadata: ["header": "bearer s3cr3t, next", "nested": ["Bearer tok"]], format: format,
                timestampMillis: 0)
            #expect(
                !line.contains("abc.DEF-123_x") && !line.contains("s3cr3t") && !line.contains("Bearer tok"), "\(line)")
            #expect(line.contains("Bearer <redacted>") && line.contains("bearer <redacted>"))
        }
        #expect(Redaction.redactingBearerTokens("no token here") == "no token here")
        #expect(Redaction.redactingBearerTokens("Bearer ") == "Bearer ")
    }

    @Test("auto picks journal only when stderr is the stream named by JOURNAL_STREAM")
    func formatResolution() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("stream-\(UUID().uuidString)").path
        try writeFile(atPath: path, contents: nil)
        defer { unlink(path) }
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        try #require(fd >= 0)
        defer { close(fd) }
        var info = stat()
        try #require(fstat(fd, &info) == 0)

        let matching = ["JOURNAL_STREAM": "\(info.st_dev):\(info.st_ino)"]
        #expect(LineLogHandler.resolvedFormat(.auto, environment: matching, fileDescriptor: fd) == .journal)
        let stale = ["JOURNAL_STREAM": "\(info.st_dev):\(info.st_ino + 1)"]
        #expect(LineLogHandler.resolvedFormat(.auto, environment: stale, fileDescriptor: fd) == .text)
        #expect(LineLogHandler.resolvedFormat(.auto, environment: [:], fileDescriptor: fd) == .text)
        #expect(LineLogHandler.resolvedFormat(.json, environment: matching, fileDescriptor: fd) == .json)
    }

    @Test("The shared level control changes the level of loggers made earlier, unless one overrides it")
    func runtimeLevel() throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let control = LogLevelControl(.info)
        let handler = LineLogHandler(format: .journal, control: control, fileDescriptor: fds[1])
        let logger = Logger(label: "test", factory: { _ in handler })
        var pinned = Logger(label: "pinned", factory: { _ in handler })
        pinned.logLevel = .error

        logger.debug("hidden")
        control.level = .debug
        logger.debug("shown", metadata: ["job": "7"])
        pinned.warning("pinned hidden")
        close(fds[1])

        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = read(fds[0], &buffer, buffer.count)
        #expect(String(decoding: buffer[..<max(count, 0)], as: UTF8.self) == "<7>level=debug msg=\"shown\" job=7\n")
        #expect(logger.logLevel == .debug && pinned.logLevel == .error)
    }
}
