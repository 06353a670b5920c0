import Foundation
import Glibc
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import ImagesEmulator
import Testing

/// On a terminal (stderr a pty) the daemon draws one status line in place — rate and ETA included — clears
/// it around every log line, and leaves per-file lines to it; through a pipe nothing of this happens.
@Suite("Terminal progress line", .serialized)
struct TerminalProgressTests {
    /// `run --once` with stderr on a pty and stdout on a pipe: (exit status, stdout, what the terminal got).
    private func runOnceOnTerminal(_ fixture: DaemonFixture, arguments: [String] = []) throws -> (Int32, String, String)
    {
        let terminal = try PseudoTerminal()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DaemonFixture.binary("imagedrop"))
        process.arguments = ["run", "--once", "--config", fixture.configPath] + arguments
        process.environment = fixture.environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = terminal.slaveHandle
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), terminal.finish())
    }

    @Test("run --once on a terminal: the status line is redrawn in place with rate and ETA, per-file lines stay off it")
    func progressOnTerminal() throws {
        var emulator = EmulatorConfiguration()
        emulator.faults.latencyMs = 100
        let fixture = try DaemonFixture(emulator: emulator, settleMillis: 0)
        try fixture.writeConfig(
            settleMillis: 0,
            uploadSection: """
                workers = 2
                backoff_initial_ms = 50
                request_timeout_s = 10
                """)
        for index in 0..<50 { try fixture.drop("p\(index).png", seed: UInt64(4500 + index)) }
        try fixture.drop("notes.jpg", bytes: Array("not an image".utf8))
        let (status, stdout, screen) = try runOnceOnTerminal(fixture)
        #expect(status == 23, "one job failed: \(stdout)")
        #expect(stdout.contains("50 uploaded, 0 already stored, 1 failed, 0 left in "), "\(stdout)")
        let erase = "\r\u{1B}[K"
        #expect(screen.components(separatedBy: erase).count > 5, "the line is redrawn in place: \(screen)")
        #expect(screen.contains(" queued, "), "\(screen)")
        #expect(
            screen.range(of: #"\d+(\.\d+)? files/s \([0-9.]+ (B|KiB|MiB)/s\), ETA \d+s"#, options: .regularExpression)
                != nil,
            "rate and ETA: \(screen)")
        #expect(!screen.contains("msg=\"uploaded\""), "per-file info lines are not printed on a terminal: \(screen)")
        #expect(screen.contains("msg=\"rejected\""), "warnings about a file still are: \(screen)")
        #expect(screen.contains("msg=\"imagedrop started\""), "lines not about one file are printed: \(screen)")
        // Every log line (text format on a terminal: it starts with its timestamp) starts at a line's start or
        // right after the erase: nothing is written into the middle of the status line.
        let starts = try Regex(#"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z level="#)
        let lineStarts = screen.matches(of: starts)
        #expect(lineStarts.count > 3, "\(screen)")
        for match in lineStarts where match.range.lowerBound != screen.startIndex {
            let before = screen[screen.index(before: match.range.lowerBound)]
            #expect(
                before == "\n" || before == "K",
                "a log line lands inside the status line: \(screen[..<match.range.lowerBound].suffix(80).debugDescription)"
            )
        }
        let final = try #require(screen.components(separatedBy: erase).last(where: { $0.contains(" done") }))
        #expect(final.contains("0 queued, 0 uploading, 50 done, 1 failed"), "\(final.debugDescription)")
    }

    @Test("with -v on a terminal the per-file lines are printed too (they were asked for)")
    func verboseOnTerminal() throws {
        let fixture = try DaemonFixture(settleMillis: 0)
        for index in 0..<3 { try fixture.drop("v\(index).png", seed: UInt64(4600 + index)) }
        let (status, _, screen) = try runOnceOnTerminal(fixture, arguments: ["-v"])
        #expect(status == 0)
        #expect(screen.contains("msg=\"uploaded\""), "\(screen)")
        #expect(screen.contains("\r\u{1B}[K"), "\(screen)")
    }
}
