import ImagedropSystem
import Testing

@testable import ImagedropPipeline
@testable import ImagedropStore

/// The pool's batched claims: one claim serves several takers, in order, and what is held can be taken back.
@Suite("Claim reservoir")
struct ClaimReservoirTests {
    private func job(_ id: Int64) -> Job {
        Job(
            id: id, path: RawPath("/drop/\(id).png"), root: RawPath("/drop"), state: .uploading, attempts: 0,
            variants: [], jobKey: "k\(id)", nextAttemptAtMillis: 0, createdAt: "", updatedAt: "")
    }

    @Test("one claim of the batch size serves the next takers in order; an empty claim holds nothing")
    func oneClaimServesSeveral() throws {
        let reservoir = ClaimReservoir()
        var asked: [Int] = []
        var queue: [Int64] = [1, 2, 3, 4, 5]
        let claim = { (limit: Int) -> [Job] in
            asked.append(limit)
            let taken = queue.prefix(limit)
            queue.removeFirst(taken.count)
            return taken.map(self.job)
        }
        #expect(try reservoir.take(batch: 4, cap: 8, claim: claim)?.id == 1)
        #expect(reservoir.count == 3)
        #expect(try reservoir.take(batch: 4, cap: 8, claim: claim)?.id == 2)
        #expect(try reservoir.take(batch: 4, cap: 8, claim: claim)?.id == 3)
        #expect(asked == [4], "served from the batch, no second claim")
        #expect(reservoir.takeAll().map(\.id) == [4])
        #expect(reservoir.count == 0)
        #expect(try reservoir.take(batch: 0, cap: 8, claim: claim)?.id == 5)
        #expect(asked == [4, 1], "a batch below one asks for one")
        #expect(try reservoir.take(batch: 4, cap: 8, claim: claim) == nil)
        #expect(reservoir.count == 0)
    }

    @Test("batch claims under way ask for at most `cap` jobs together; a taker past it claims one")
    func concurrentBatchesCapped() throws {
        let reservoir = ClaimReservoir()
        var next: Int64 = 1
        func jobs(_ count: Int) -> [Job] {
            defer { next += Int64(count) }
            return (0..<Int64(count)).map { job(next + $0) }
        }
        var asked: [Int] = []
        // Two takers find the reservoir empty while a third is still claiming: nested claims stand for takers
        // on other threads whose claims overlap.
        let outer = try reservoir.take(batch: 4, cap: 8) { limit in
            asked.append(limit)
            let inner = try reservoir.take(batch: 4, cap: 8) { limit in
                asked.append(limit)
                let innermost = try reservoir.take(batch: 4, cap: 8) { limit in
                    asked.append(limit)
                    return jobs(limit)
                }
                #expect(innermost != nil)
                return jobs(limit)
            }
            #expect(inner != nil)
            return jobs(limit)
        }
        #expect(outer != nil)
        #expect(asked == [4, 4, 1], "the third taker would take the two batches past the cap of 8")
        #expect(reservoir.count == 6)
        // All landed: the next empty-handed taker may batch again.
        _ = reservoir.takeAll()
        asked = []
        _ = try reservoir.take(batch: 4, cap: 8) { limit in
            asked.append(limit)
            return jobs(limit)
        }
        #expect(asked == [4])
    }

    @Test("a failed claim holds nothing and throws to the taker")
    func failedClaim() {
        struct Unwritable: Error {}
        let reservoir = ClaimReservoir()
        #expect(throws: Unwritable.self) { try reservoir.take(batch: 4, cap: 8) { _ in throw Unwritable() } }
        #expect(reservoir.count == 0)
        // The failed batch is no longer under way: the next taker batches.
        var asked: [Int] = []
        _ = try? reservoir.take(batch: 4, cap: 4) { limit in
            asked.append(limit)
            return []
        }
        #expect(asked == [4])
    }

    @Test("batches only from eight workers on, half of them, at most eight")
    func batchSizes() {
        #expect(
            [1, 2, 4, 7, 8, 12, 16, 64, 256].map { ClaimReservoir.batchSize(workers: $0) } == [
                1, 1, 1, 1, 4, 6, 8, 8, 8,
            ])
    }
}
