/// The deadlines of one connection, as a value: events in, the next deadline and what to do at it out. Time is a
/// parameter (monotonic nanoseconds), so a test walks it through minutes in microseconds.
///
/// - A new connection must send its first byte within the request timeout, and every request must arrive
///   whole (head and body) within the request timeout from its first byte: a client sending a byte every few
///   seconds is cut off with 408 however long it keeps going.
/// - Between requests on a kept-alive connection the idle timeout applies (then the connection is closed
///   without a word, as any server may do to an idle connection).
/// - While a request is being answered there is no deadline from here: the database lane bounds the wait.
/// - A response handed to the socket must be taken by the client within the request timeout, or the
///   connection is closed (a client that never reads would otherwise hold it forever).
///
/// Bytes that arrive in the same read as the end of the request before them cannot be told apart from it here;
/// such a pipelined request is timed from the next read instead, at worst one idle timeout later. Every
/// connection still ends within the idle timeout plus the request timeout of its last sign of progress.
package struct RequestClock: Sendable {
    package enum Expiry: Equatable, Sendable {
        /// Not yet: the deadline moved (or there is none).
        case none
        /// Answer 408 and close.
        case requestTimeout
        /// Close without an answer.
        case close
    }

    package let requestTimeoutNanos: UInt64
    package let idleTimeoutNanos: UInt64

    private var quietSince: UInt64
    private var sawBytes = false
    /// When the first byte of the request still coming arrived.
    private var partialSince: UInt64?
    /// Requests received whole and not yet answered.
    private var answering = 0
    /// Writes handed to the socket and not yet flushed, and since when some have been outstanding.
    private var pendingWrites = 0
    private var writingSince: UInt64?

    package init(requestTimeoutNanos: UInt64, idleTimeoutNanos: UInt64, openedAt now: UInt64) {
        self.requestTimeoutNanos = requestTimeoutNanos
        self.idleTimeoutNanos = idleTimeoutNanos
        quietSince = now
    }

    package mutating func bytesArrived(at now: UInt64) {
        sawBytes = true
        if partialSince == nil { partialSince = now }
    }

    package mutating func requestReceived(at now: UInt64) {
        partialSince = nil
        answering += 1
    }

    package mutating func responseEnded(at now: UInt64) {
        answering = max(0, answering - 1)
        if answering == 0, partialSince == nil { quietSince = now }
    }

    package mutating func writeStarted(at now: UInt64) {
        if pendingWrites == 0 { writingSince = now }
        pendingWrites += 1
    }

    package mutating func writeFinished(at now: UInt64) {
        pendingWrites = max(0, pendingWrites - 1)
        if pendingWrites == 0 { writingSince = nil }
        if answering == 0, partialSince == nil, pendingWrites == 0 { quietSince = max(quietSince, now) }
    }

    /// The next moment `expire` has something to do; nil while a request is being answered and nothing else runs.
    package var deadline: UInt64? {
        var candidates: [UInt64] = []
        if let writingSince { candidates.append(Self.adding(writingSince, requestTimeoutNanos)) }
        if let partialSince { candidates.append(Self.adding(partialSince, requestTimeoutNanos)) }
        if answering == 0, partialSince == nil, pendingWrites == 0 {
            candidates.append(Self.adding(quietSince, sawBytes ? idleTimeoutNanos : requestTimeoutNanos))
        }
        return candidates.min()
    }

    /// What to do at `now`. A 408 is sent only when no response is in flight, so it cannot cut into one.
    package func expire(at now: UInt64) -> Expiry {
        guard let deadline, now >= deadline else { return .none }
        if let writingSince, now >= Self.adding(writingSince, requestTimeoutNanos) { return .close }
        let responding = answering > 0 || pendingWrites > 0
        if let partialSince, now >= Self.adding(partialSince, requestTimeoutNanos) {
            return responding ? .close : .requestTimeout
        }
        // Quiet: a connection that never sent a byte gets a 408 (RFC 9110 allows it); a kept-alive one is closed.
        return sawBytes ? .close : .requestTimeout
    }

    private static func adding(_ time: UInt64, _ interval: UInt64) -> UInt64 {
        let (sum, overflow) = time.addingReportingOverflow(interval)
        return overflow ? .max : sum
    }
}
