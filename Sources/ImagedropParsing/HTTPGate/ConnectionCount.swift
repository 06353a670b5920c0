/// `[http] max_connections` as a value: how many connections are open, whether the next one may be, and when a
/// burst of refusals starts and ends, so the log says so twice per burst instead of once per connection.
package struct ConnectionCount: Sendable {
    package enum Admission: Equatable, Sendable {
        /// Open it. `refusedBefore` is how many were refused since the last one admitted (the burst that just
        /// ended, to log), zero when there was none.
        case admit(refusedBefore: Int)
        /// Close it at once. `firstOfBurst`: the first refusal since one was admitted (to log).
        case refuse(firstOfBurst: Bool)
    }

    package let limit: Int
    package private(set) var open = 0
    private var refusedInBurst = 0

    package init(limit: Int) { self.limit = max(1, limit) }

    package mutating func opening() -> Admission {
        guard open < limit else {
            if refusedInBurst < Int.max { refusedInBurst += 1 }
            return .refuse(firstOfBurst: refusedInBurst == 1)
        }
        open += 1
        defer { refusedInBurst = 0 }
        return .admit(refusedBefore: refusedInBurst)
    }

    /// An admitted connection closed.
    package mutating func closed() { open = max(0, open - 1) }
}
