import ImagedropParsing
import Testing

/// The connection deadlines walked through in simulated time: seconds are plain numbers here.
@Suite("Request clock")
struct RequestClockTests {
    static let second: UInt64 = 1_000_000_000
    static func clock() -> RequestClock {
        RequestClock(requestTimeoutNanos: 10 * second, idleTimeoutNanos: 30 * second, openedAt: 100 * second)
    }

    @Test("a new connection must send its first byte within the request timeout, or it gets 408")
    func firstByte() {
        let clock = Self.clock()
        #expect(clock.deadline == 110 * Self.second)
        #expect(clock.expire(at: 109 * Self.second) == .none)
        #expect(clock.expire(at: 110 * Self.second) == .requestTimeout)
    }

    @Test("slowloris: a byte every second keeps nothing alive; the request is cut off 10 s after its first byte")
    func slowloris() {
        var clock = Self.clock()
        for tick in 0..<10 {
            clock.bytesArrived(at: (101 + UInt64(tick)) * Self.second)
            #expect(clock.deadline == 111 * Self.second)
        }
        #expect(clock.expire(at: 111 * Self.second) == .requestTimeout)
    }

    @Test("kept alive: after a response the idle timeout applies, and the next request has its own deadline")
    func keepAlive() {
        var clock = Self.clock()
        clock.bytesArrived(at: 101 * Self.second)
        clock.requestReceived(at: 102 * Self.second)
        #expect(clock.deadline == nil, "no deadline while the answer is prepared (the database lane bounds it)")
        clock.writeStarted(at: 103 * Self.second)
        clock.responseEnded(at: 103 * Self.second)
        #expect(clock.deadline == 113 * Self.second, "a written response must be taken within the request timeout")
        clock.writeFinished(at: 104 * Self.second)
        #expect(clock.deadline == 134 * Self.second)
        #expect(clock.expire(at: 134 * Self.second) == .close, "an idle kept-alive connection is closed without a word")
        clock.bytesArrived(at: 120 * Self.second)
        #expect(clock.deadline == 130 * Self.second)
        #expect(clock.expire(at: 130 * Self.second) == .requestTimeout)
    }

    @Test("a client that never reads its response is closed, without a 408 cutting into the response")
    func stalledWrite() {
        var clock = Self.clock()
        clock.bytesArrived(at: 101 * Self.second)
        clock.requestReceived(at: 101 * Self.second)
        clock.writeStarted(at: 102 * Self.second)
        clock.bytesArrived(at: 103 * Self.second)
        #expect(clock.deadline == 112 * Self.second)
        #expect(clock.expire(at: 112 * Self.second) == .close)
        #expect(
            clock.expire(at: 113 * Self.second) == .close,
            "a partial next request while a response is pending: close, no 408")
    }

    @Test("a request pipelined behind another is received at once: its deadline stops though it waits its turn")
    func pipelined() {
        var clock = Self.clock()
        clock.bytesArrived(at: 101 * Self.second)
        clock.requestReceived(at: 101 * Self.second)
        clock.bytesArrived(at: 101 * Self.second)
        clock.requestReceived(at: 101 * Self.second)
        #expect(clock.deadline == nil)
        clock.responseEnded(at: 150 * Self.second)
        #expect(clock.deadline == nil, "the second is still being answered")
        clock.responseEnded(at: 151 * Self.second)
        #expect(clock.deadline == 181 * Self.second)
    }
}

@Suite("Connection count")
struct ConnectionCountTests {
    @Test("admits up to the limit, refuses beyond, and marks a burst of refusals once at its start and once at its end")
    func burst() {
        var count = ConnectionCount(limit: 2)
        #expect(count.opening() == .admit(refusedBefore: 0) && count.opening() == .admit(refusedBefore: 0))
        #expect(count.opening() == .refuse(firstOfBurst: true))
        for _ in 0..<50 { #expect(count.opening() == .refuse(firstOfBurst: false)) }
        count.closed()
        #expect(count.open == 1)
        #expect(count.opening() == .admit(refusedBefore: 51))
        #expect(count.opening() == .refuse(firstOfBurst: true))
        for _ in 0..<5 { count.closed() }
        #expect(count.open == 0 && ConnectionCount(limit: 0).limit == 1)
    }
}
