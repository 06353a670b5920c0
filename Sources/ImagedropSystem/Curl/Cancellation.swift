/// What cuts one transfer short while it runs: libcurl's progress function polls it (about once a second, and
/// on every chunk). It is passed with each request, so a handle holds no policy of its own: the daemon's workers
/// pass "the grace period is over, or a second SIGTERM came", a command passes `never`.
package struct Cancellation: Sendable {
    private let check: @Sendable () -> Bool

    package init(_ isCancelled: @escaping @Sendable () -> Bool) { self.check = isCancelled }

    package static let never = Cancellation { false }

    package var isCancelled: Bool { check() }
}
