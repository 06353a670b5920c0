import Foundation
import Glibc
import Logging
import Testing

@testable import ImagedropDaemon
@testable import ImagedropPipeline
@testable import ImagedropStore

@Suite("Progress and log formatting")
struct ProgressFormattingTests {
    @Test("sizes in binary units with three significant digits")
    func sizes() {
        #expect(HumanUnits.bytes(0) == "0 B")
        #expect(HumanUnits.bytes(512) == "512 B")
        #expect(HumanUnits.bytes(1536) == "1.5 KiB")
        #expect(HumanUnits.bytes(2_516_582) == "2.4 MiB")
        #expect(HumanUnits.bytes(10_485_760) == "10 MiB")
        #expect(HumanUnits.bytes(12_900_000) == "12.3 MiB")
        #expect(HumanUnits.bytes(1_150_000_000) == "1.07 GiB")
        #expect(HumanUnits.bytes(-5) == "0 B")
    }

    @Test("durations: milliseconds, seconds, then the summary's 5m04s")
    func durations() {
        #expect(HumanUnits.duration(seconds: 0.842) == "842 ms")
        #expect(HumanUnits.duration(seconds: 1.342) == "1.34 s")
        #expect(HumanUnits.duration(seconds: 42) == "42 s")
        #expect(HumanUnits.duration(seconds: 304) == "5m04s")
        #expect(HumanUnits.duration(seconds: 7387) == "2h03m07s")
    }

    @Test("rates: files a second, a minute or an hour; bytes a second")
    func rates() {
        #expect(HumanUnits.fileRate(perSecond: 3.2) == "3.2 files/s")
        #expect(HumanUnits.fileRate(perSecond: 150) == "150 files/s")
        #expect(HumanUnits.fileRate(perSecond: 0.2) == "12 files/min")
        #expect(HumanUnits.fileRate(perSecond: 0.001) == "3.6 files/h")
        #expect(HumanUnits.byteRate(perSecond: 1_153_434) == "1.1 MiB/s")
    }

    @Test("throughput: no rate from one sample or under a second; the rate over the window; the ETA of the backlog")
    func throughput() {
        var window = Throughput(windowSeconds: 60)
        window.record(atNanos: 1_000_000_000, finished: 0, bytes: 0)
        #expect(window.rate == nil)
        window.record(atNanos: 1_500_000_000, finished: 5, bytes: 500)
        #expect(window.rate == nil, "half a second is noise")
        window.record(atNanos: 11_000_000_000, finished: 20, bytes: 2_097_152)
        #expect(window.rate == .init(filesPerSecond: 2, bytesPerSecond: 209_715.2))
        #expect(Throughput.etaSeconds(waiting: 100, rate: window.rate) == 50)
        #expect(Throughput.text(rate: window.rate) == "2 files/s (205 KiB/s)")
        #expect(Throughput.etaSeconds(waiting: 3, rate: .init(filesPerSecond: 0, bytesPerSecond: 0)) == nil)
        #expect(
            Throughput.text(rate: .init(filesPerSecond: 0, bytesPerSecond: 0)) == nil,
            "nothing moves: the wait or pause says why")
        #expect(Throughput.text(rate: nil) == nil)
        #expect(
            Throughput.etaSeconds(waiting: 305, rate: .init(filesPerSecond: 1, bytesPerSecond: 0)).map {
                HumanUnits.duration($0)
            } == "5m05s")
    }

    @Test("throughput forgets samples older than its window, so a stall shows as a falling rate")
    func throughputWindow() {
        var window = Throughput(windowSeconds: 10)
        window.record(atNanos: 0, finished: 0, bytes: 0)
        window.record(atNanos: 5_000_000_000, finished: 100, bytes: 0)
        window.record(atNanos: 10_000_000_000, finished: 200, bytes: 0)
        #expect(window.rate?.filesPerSecond == 20)
        window.record(atNanos: 20_000_000_000, finished: 200, bytes: 0)  // stalled for 10 s
        window.record(atNanos: 30_000_000_000, finished: 200, bytes: 0)
        #expect(window.rate?.filesPerSecond == 0)
    }

    @Test("a log line under the status line: erase, the line, the status line again; none shown: the plain line")
    func composedLines() {
        #expect(
            TerminalStatusLine.composed("level=warning msg=x", below: "3 queued")
                == "\r\u{1B}[Klevel=warning msg=x\n3 queued")
        #expect(TerminalStatusLine.composed("level=info msg=x", below: nil) == "level=info msg=x\n")
    }

    @Test("the status line is cut to the terminal's width, so it never wraps")
    func fittedToWidth() {
        #expect(TerminalStatusLine.fitted("12345", columns: 80) == "12345")
        #expect(TerminalStatusLine.fitted("1234567890", columns: 8) == "123456…")
        #expect(TerminalStatusLine.fitted("1234567890", columns: nil) == "1234567890")
    }

    @Test("per-file details: info and notice lines naming a job, unless the level is debug")
    func perFileDetail() {
        let job: Logger.Metadata = ["job": "12", "path": "/a.png"]
        #expect(LineLogHandler.isPerFileDetail(level: .info, metadata: job, threshold: .info))
        #expect(LineLogHandler.isPerFileDetail(level: .notice, metadata: job, threshold: .info))
        #expect(
            !LineLogHandler.isPerFileDetail(level: .warning, metadata: job, threshold: .info),
            "a rejected file is shown")
        #expect(
            !LineLogHandler.isPerFileDetail(level: .info, metadata: ["pid": "1"], threshold: .info),
            "not about one file")
        #expect(!LineLogHandler.isPerFileDetail(level: .info, metadata: job, threshold: .debug), "-v asks for them")
    }

    @Test("a JSON log line carries a duration and the stop's counts as numbers")
    func numericKeys() {
        let line = LineLogHandler.format(
            level: .info, message: "uploaded",
            metadata: ["size": "2048", "duration_ms": "1342", "in_flight": "2", "grace_s": "30"],
            format: .json, timestampMillis: nil)
        #expect(line == #"{"level":"info","msg":"uploaded","duration_ms":1342,"grace_s":30,"in_flight":2,"size":2048}"#)
    }

    @Test("the paused line's fix: the network path for an unreachable API, the credential for a refused one")
    func pauseFix() {
        var config = Config()
        config.cloudflare.apiBaseURL = "https://api.example.test/client/v4"
        config.cloudflare.accountID = "023e105f4ecef8ad9ca31a8372d0c353"
        let unreachable = PauseNotice.fix(reason: "API unreachable: curl error 7", kind: .unreachable, config: config)
        #expect(unreachable.contains("https://api.example.test/client/v4") && unreachable.contains("resumes by itself"))
        let refused = PauseNotice.fix(reason: "token refused: HTTP 401", kind: .credentials, config: config)
        #expect(refused.contains("023e105f4ecef8ad9ca31a8372d0c353") && refused.contains("imagedrop check"))
        let missing = PauseNotice.fix(
            reason: "no API token: set CLOUDFLARE_API_TOKEN", kind: .credentials, config: config)
        #expect(missing.contains("provide the credential"))
    }

    @Test("a debug line's reason for an ignored name: the excluding pattern, or include")
    func ignoredReason() {
        let filter = PathFilter(include: ["*.png"], exclude: [".*", "*.tmp"])
        #expect(filter.whyIgnored(Array("a.tmp".utf8)) == "excluded by the pattern \"*.tmp\" (watch.exclude)")
        #expect(filter.whyIgnored(Array("a.txt".utf8)) == "matches none of watch.include (*.png)")
        #expect(filter.whyIgnored(Array("a.png".utf8)) == nil)
        #expect(filter.whyIgnored(Array("list.urls".utf8)) == nil, "URL lists are candidates whatever include says")
    }
}

@Suite("Watch path nesting")
struct WatchPathNestingTests {
    @Test("one path inside another is found, in either order, naming both")
    func nested() {
        #expect(
            WatchPathNesting.firstOverlap(in: ["/srv/in", "/srv/in/cams"])
                == .init(inner: "/srv/in/cams", outer: "/srv/in", same: false))
        #expect(
            WatchPathNesting.firstOverlap(in: ["/srv/in/cams", "/srv/other", "/srv/in/"])
                == .init(inner: "/srv/in/cams", outer: "/srv/in/", same: false))
    }

    @Test("the same folder twice, spelled differently, is found once")
    func same() {
        #expect(
            WatchPathNesting.firstOverlap(in: ["/srv/in", "/srv/x/../in"])
                == .init(inner: "/srv/x/../in", outer: "/srv/in", same: true))
    }

    @Test("siblings, prefix-sharing names and a single path are fine")
    func disjoint() {
        #expect(WatchPathNesting.firstOverlap(in: ["/srv/in", "/srv/in2", "/srv/inbox"]) == nil)
        #expect(WatchPathNesting.firstOverlap(in: ["/srv/in"]) == nil)
        #expect(WatchPathNesting.firstOverlap(in: []) == nil)
    }

    @Test("a symlink into another watch path is nesting too")
    func throughSymlink() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nesting-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        ).path
        try FileManager.default.createDirectory(atPath: base + "/real/sub", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        try FileManager.default.createSymbolicLink(atPath: base + "/link", withDestinationPath: base + "/real/sub")
        let overlap = WatchPathNesting.firstOverlap(in: [base + "/real", base + "/link"])
        #expect(overlap == .init(inner: base + "/link", outer: base + "/real", same: false))
    }
}

@Suite("Watch folder locks")
struct WatchFolderLocksTests {
    @Test("update locks added folders all or nothing and releases dropped ones")
    func update() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent(
            "locks-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        ).path
        for name in ["a", "b", "c"] {
            try FileManager.default.createDirectory(atPath: base + "/" + name, withIntermediateDirectories: true)
        }
        defer { try? FileManager.default.removeItem(atPath: base) }
        let mine = try WatchFolderLocks(folders: [base + "/a"])
        let other = try WatchFolderLocks(folders: [])
        #expect(throws: WatchFolderLocks.Held.self) { try other.update(folders: [base + "/b", base + "/a"]) }
        // All or nothing: b was taken and given back when a was refused.
        try mine.update(folders: [base + "/a", base + "/b"])
        try mine.update(folders: [base + "/b"])  // a released
        try other.update(folders: [base + "/a", base + "/c"])
        #expect(throws: WatchFolderLocks.Held.self) { try other.update(folders: [base + "/b"]) }
        try other.update(folders: [base + "/a", base + "/c"])  // unchanged: still held, nothing re-taken
    }
}
