import Testing

@testable import ImagedropPipeline
@testable import ImagedropSystem

@Suite("Open writes (files a writer still holds)")
struct OpenWritesTests {
    let path = RawPath("/in/a.png")
    let second: UInt64 = 1_000_000_000

    @Test("a write marks the file open until its close, a move away or its delete")
    func closeEndsIt() {
        let writes = OpenWrites()
        #expect(!writes.isOpen(path, now: 0))
        writes.wrote(path, at: 10 * second)
        #expect(writes.isOpen(path, now: 11 * second))
        #expect(!writes.isOpen(RawPath("/in/b.png"), now: 11 * second))
        writes.closed(path)
        #expect(!writes.isOpen(path, now: 11 * second))
        #expect(writes.count == 0)
    }

    @Test("an entry with no write for five minutes expires, and forgetStale drops it")
    func staleEntriesExpire() {
        let writes = OpenWrites()
        writes.wrote(path, at: 10 * second)
        #expect(writes.isOpen(path, now: 10 * second + OpenWrites.staleAfterNanos - 1))
        #expect(!writes.isOpen(path, now: 10 * second + OpenWrites.staleAfterNanos))
        writes.forgetStale(now: 10 * second + OpenWrites.staleAfterNanos - 1)
        #expect(writes.count == 1)
        writes.forgetStale(now: 10 * second + OpenWrites.staleAfterNanos)
        #expect(writes.count == 0)
    }

    @Test("a later write renews the entry; a clock reading before the write does not trap or expire it")
    func renewedAndOutOfOrder() {
        let writes = OpenWrites()
        writes.wrote(path, at: 10 * second)
        writes.wrote(path, at: 200 * second)
        #expect(writes.isOpen(path, now: 10 * second + OpenWrites.staleAfterNanos))
        #expect(writes.isOpen(path, now: 5 * second))
        writes.forgetAll()
        #expect(!writes.isOpen(path, now: 200 * second))
    }
}
