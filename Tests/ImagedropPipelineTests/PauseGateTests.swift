import Testing

@testable import ImagedropPipeline

/// The operator's pause and the API's are held apart: neither lifts the other.
@Suite("Pause gate")
struct PauseGateTests {
    @Test("the operator's pause outlasts an accepted probe, and resume leaves a refused token's pause in force")
    func operatorAndAPIPausesAreApart() {
        let gate = PauseGate()
        #expect(gate.setOperatorPause("paused by operator: disk swap"))
        #expect(gate.isPaused && gate.isPausedByOperator && gate.kind == nil, "the prober has nothing to probe")
        #expect(gate.pause("token refused: 10000", kind: .credentials))
        #expect(gate.reason == "paused by operator: disk swap", "the operator's reason is shown first")
        #expect(gate.apiReason == "token refused: 10000" && gate.kind == .credentials)

        #expect(gate.resume(), "an accepted probe lifts the API's pause")
        #expect(gate.isPaused && gate.reason == "paused by operator: disk swap", "… not the operator's")
        #expect(gate.pause("token refused: 10000"))
        #expect(gate.setOperatorPause(nil))
        #expect(gate.reason == "token refused: 10000", "`imagedrop resume` leaves the token's pause")
        #expect(!gate.setOperatorPause(nil), "no change, nothing to log")
    }

    @Test("a probe asked for (SIGHUP) is taken once")
    func probeRequestIsTakenOnce() {
        let gate = PauseGate()
        #expect(!gate.takeProbeRequest())
        gate.probeSoon()
        #expect(gate.takeProbeRequest())
        #expect(!gate.takeProbeRequest())
    }
}
