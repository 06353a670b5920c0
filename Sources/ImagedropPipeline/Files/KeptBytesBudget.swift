import Synchronization

/// How many bytes of small files pre-flight may keep, for the whole process, for their uploads to send
/// (`InspectedFile.bytes`) instead of reading the files again. Each kept file is held until its request ends, by
/// every worker and every prepared job: without a bound, 256 workers of 64 KiB files would hold 16 MiB. Past the
/// bound a file is read again as it is sent, as every file was before.
package final class KeptBytesBudget: Sendable {
    /// 1 MiB: 16 files of 64 KiB or 20 of 50 KB in flight (8 workers and their 2 prepared jobs hold 10).
    package static let shared = KeptBytesBudget(limit: 1 << 20)

    package let limit: Int
    private let inUse = Atomic<Int>(0)

    package init(limit: Int) { self.limit = limit }

    /// The bytes held now.
    package var used: Int { inUse.load(ordering: .relaxed) }

    /// `count` bytes of the budget, given back when the charge is released; nil (nothing taken) when they
    /// would pass the limit.
    package func take(_ count: Int) -> Charge? {
        var current = inUse.load(ordering: .relaxed)
        while current + count <= limit {
            let (exchanged, original) = inUse.compareExchange(
                expected: current, desired: current + count, ordering: .relaxed)
            if exchanged { return Charge(budget: self, count: count) }
            current = original
        }
        return nil
    }

    /// Bytes taken from a budget, given back in deinit: with the file that holds them, on every path.
    package final class Charge: Sendable {
        private let budget: KeptBytesBudget
        package let count: Int

        fileprivate init(budget: KeptBytesBudget, count: Int) {
            self.budget = budget
            self.count = count
        }

        deinit { budget.inUse.subtract(count, ordering: .relaxed) }
    }
}
