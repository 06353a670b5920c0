import Foundation
import Glibc
import ImagedropSupport
import ImagedropTestSupport
import ImagesEmulator
import Testing

@testable import ImagedropDaemon
@testable import ImagedropPipeline
@testable import ImagedropStore
@testable import ImagedropSystem

/// Issue 4, "Done when" (burst): 20,000 files while the kernel's inotify queue overflows for real.
@Suite("inotify overflow", .serialized)
struct OverflowTests {
    /// SIGSTOP holds the daemon so it reads no events while 20,000 files (2 watched events each: create and
    /// close_write) land in the watched folder; 40,000 events exceed the kernel queue
    /// (fs.inotify.max_queued_events, 16,384 by default), so it overflows for real. The sysctl is deliberately
    /// not lowered: it is global, and other daemons started meanwhile on this machine would inherit it.
    @Test("a burst of 20,000 files overflowing the inotify queue: every file queued exactly once, overflow logged")
    func burstWithOverflow() throws {
        let limit =
            (try? String(contentsOfFile: "/proc/sys/fs/inotify/max_queued_events", encoding: .utf8))
            .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 16_384
        let count = 20_000
        try #require(count * 2 > limit, "max_queued_events \(limit) is too large for 20,000 files to overflow it")

        var emulator = EmulatorConfiguration()
        emulator.rateLimitRequests = 0
        let fixture = try DaemonFixture(emulator: emulator, settleMillis: 0)
        try fixture.start()  // the inotify instance takes the queue limit in force when it is created
        let pid = try #require(fixture.process?.processIdentifier)
        kill(pid, SIGSTOP)
        let started = Date()
        // All in the watched folder itself: files in a new subfolder would raise no events at all (it has no
        // watch yet) and would be found by listing the new folder, not through the overflow.
        for index in 0..<count {
            let bytes = SampleImages.png(width: 1, height: 1, seed: UInt64(100_000 + index))
            let path = fixture.inbox + String(format: "/o%05d.png", index)
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            #expect(fd >= 0)
            _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            close(fd)
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
        print(
            """
            [overflow] max_queued_events=\(limit) \
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
