import ImagedropStore
import Testing

/// One ETA from whichever constraint binds, as a table.
@Suite("Backlog ETA")
struct BacklogETATests {
    typealias Budget = BacklogETA.Budget

    @Test(
        "the binding constraint sets the ETA",
        arguments: [
            // waiting, measured/s, budget (free, per s), batch/s, expected
            (100, 2.0, nil, nil, 50),  // measured alone
            (100, 50.0, Budget(free: 0, perSecond: 4), nil, 25),  // a burst measured, the budget spent: 4/s is the pace
            (100, 50.0, Budget(free: 60, perSecond: 4), nil, 10),  // 60 go now, 40 at 4/s
            (100, 2.0, Budget(free: 1200, perSecond: 4), nil, 50),  // budget to spare: the measured rate binds
            (1000, 500.0, nil, 200.0, 5),  // a batch token's 200/s over a rate measured in a burst
            // no rate yet (all waiting for budget): the budget's pace
            (20, nil, Budget(free: 0, perSecond: 10.0 / 300), nil, 600),
            (5, nil, Budget(free: 10, perSecond: 4), nil, nil),  // no rate, the budget does not bind: nothing to go on
            (5, nil, nil, nil, nil),
            (0, 3.0, nil, nil, 0),  // nothing waits
        ] as [(Int, Double?, Budget?, Double?, Int?)])
    func binding(waiting: Int, measured: Double?, budget: Budget?, batch: Double?, expected: Int?) {
        let constraints = BacklogETA.Constraints(measuredPerSecond: measured, budget: budget, batchPerSecond: batch)
        #expect(BacklogETA.seconds(waiting: waiting, paused: false, constraints) == expected)
    }

    @Test("paused: unknown, whatever the rates say")
    func pausedIsUnknown() {
        let constraints = BacklogETA.Constraints(
            measuredPerSecond: 5, budget: Budget(free: 0, perSecond: 4), batchPerSecond: nil)
        #expect(BacklogETA.seconds(waiting: 100, paused: true, constraints) == nil)
    }
}
