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
        #expect(try reservoir.take(batch: 4, claim: claim)?.id == 1)
        #expect(reservoir.count == 3)
        #expect(try reservoir.take(batch: 4, claim: claim)?.id == 2)
        #expect(try reservoir.take(batch: 4, claim: claim)?.id == 3)
        #expect(asked == [4], "served from the batch, no second claim")
        #expect(reservoir.takeAll().map(\.id) == [4])
        #expect(reservoir.count == 0)
        #expect(try reservoir.take(batch: 0, claim: claim)?.id == 5)
        #expect(asked == [4, 1], "a batch below one asks for one")
        #expect(try reservoir.take(batch: 4, claim: claim) == nil)
        #expect(reservoir.count == 0)
    }

    @Test("a failed claim holds nothing and throws to the taker")
    func failedClaim() {
        struct Unwritable: Error {}
        let reservoir = ClaimReservoir()
        #expect(throws: Unwritable.self) { try reservoir.take(batch: 4) { _ in throw Unwritable() } }
        #expect(reservoir.count == 0)
    }

    @Test("batches only from eight workers on, half of them, at most eight")
    func batchSizes() {
        #expect(
            [1, 2, 4, 7, 8, 12, 16, 64, 256].map { ClaimReservoir.batchSize(workers: $0) } == [
                1, 1, 1, 1, 4, 6, 8, 8, 8,
            ])
    }
}
