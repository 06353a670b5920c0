import Glibc

/// The daemon's soft RLIMIT_NOFILE raised to its hard limit at start. systemd leaves services at a soft 1,024
/// (the hard limit is 524,288 there): enough for the workers, not for them plus a burst of endpoint clients,
/// webhooks and the watcher — and a file that cannot be opened for want of descriptors must wait, not fail.
package enum OpenFileLimit {
    package struct Raised: Sendable, Equatable {
        package var before: Int
        package var after: Int
    }

    /// Returns the limits before and after (equal when the soft limit already was the hard one, or the kernel
    /// refused: the daemon then runs with what it has).
    @discardableResult
    package static func raiseToHard() -> Raised {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return Raised(before: -1, after: -1) }
        let before = Int(clamping: limit.rlim_cur)
        guard limit.rlim_cur < limit.rlim_max else { return Raised(before: before, after: before) }
        var raised = limit
        raised.rlim_cur = limit.rlim_max
        guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 else {
            return Raised(before: before, after: before)
        }
        return Raised(before: before, after: Int(clamping: raised.rlim_cur))
    }
}
