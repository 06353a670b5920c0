import Foundation
import Glibc
@testable import ImagedropCore
import ImagedropSupport
import ImagesEmulator
import Testing

/// Issue 4, "Done when" (burst): 20,000 files while the kernel's inotify queue overflows for real.
@Suite("inotify overflow", .serialized)
struct OverflowTests {
    /// SIGSTOP holds the daemon so it reads no events while 20,000 files (≥ 5 events each: create, modify,
    /// close, moved_from, moved_to) land; the kernel queue (fs.inotify.max_queued_events, 16,384 by default)
    /// overflows for real. As root the limit is also lowered to 256 when /proc allows it (restored after).
    @Test("a burst of 20,000 files overflowing the inotify queue: every file queued exactly once, overflow logged")
    func burstWithOverflow() throws {
        let sysctl = "/proc/sys/fs/inotify/max_queued_events"
        let previous = (try? String(contentsOfFile: sysctl, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        var lowered = false
        if previous != nil, (try? "256\n".write(toFile: sysctl, atomically: false, encoding: .utf8)) != nil {
            lowered = (try? String(contentsOfFile: sysctl, encoding: .utf8))?.hasPrefix("256") == true
        }
        defer { if lowered, let previous { try? (previous + "\n").write(toFile: sysctl, atomically: false, encoding: .utf8) } }

        var emulator = EmulatorConfiguration()
        emulator.rateLimitRequests = 0
        let fixture = try DaemonFixture(emulator: emulator, settleMillis: 0)
        try fixture.start()   // the inotify instance takes the queue limit in force when it is created
        let pid = try #require(fixture.process?.processIdentifier)
        let count = 20_000
        kill(pid, SIGSTOP)
        let started = Date()
        for index in 0..<count {
            let bytes = SampleImages.png(width: 1, height: 1, seed: UInt64(100_000 + index))
            try fixture.drop(String(format: "burst/%02d/o%05d.png", index % 20, index), bytes: bytes)
        }
        let writeSeconds = Date().timeIntervalSince(started)
        kill(pid, SIGCONT)
        let queued = fixture.waitUntil(seconds: 240) { fixture.counts().values.reduce(0, +) >= count }
        let queueSeconds = Date().timeIntervalSince(started)
        fixture.stop()

        let store = try JobStore(path: fixture.database)
        let (jobs, distinct) = try store.withDatabase { db -> (Int, Int) in
            let statement = try db.prepare("SELECT count(*), count(DISTINCT path_key) FROM jobs")
            _ = try statement.step()
            return (statement.int(0), statement.int(1))
        }
        let log = fixture.log
        let overflowLines = log.split(separator: "\n").filter { $0.contains("overflow") }.count
        print("""
            [overflow] max_queued_events=\(lowered ? "256 (lowered from \(previous ?? "?"))" : (previous ?? "?")) \
            files=\(count) written in \(String(format: "%.1f", writeSeconds)) s while the daemon was stopped; \
            jobs=\(jobs) distinct paths=\(distinct) overflow log lines=\(overflowLines) \
            all queued after \(String(format: "%.1f", queueSeconds)) s; done at stop=\(fixture.counts()[.done] ?? 0)
            """)
        #expect(queued)
        #expect(jobs == count)
        #expect(distinct == count)
        #expect(overflowLines > 0, "the daemon did not log the overflow")
    }
}
