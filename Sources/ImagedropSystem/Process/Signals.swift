import Glibc

/// Process signals for the daemon. They are blocked in every thread before any thread starts (a
/// DispatchSource handler is not armed at once after resume(), so an early SIGTERM would be lost or kill
/// the process) and then taken synchronously by the main loop with sigtimedwait: handlers never run
/// arbitrary code, they only become a value the loop acts on.
package enum Signals {
    package enum Received: Sendable, Equatable {
        case terminate(Int32)
        case reload
    }

    private static var set: sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGHUP)
        return set
    }

    /// Call first thing in main, before any thread (Dispatch, Foundation, libcurl) exists.
    package static func blockForProcess() {
        var mask = set
        pthread_sigmask(SIG_BLOCK, &mask, nil)
        // Writing to a closed pipe (a reader of our stdout went away) must be an error, not death.
        signal(SIGPIPE, SIG_IGN)
    }

    /// For every command but `run`: SIGTERM, SIGINT and SIGHUP get their default action again (Ctrl-C ends an
    /// `enqueue` of a big tree or a `check` waiting on the network at once). Threads started meanwhile keep the
    /// signals blocked, so the kernel delivers them to the thread that unblocked them. Only `run` takes signals
    /// as values on its main loop; for the others nothing is left half-done by dying (each write is a transaction).
    package static func restoreDefaultForProcess() {
        var mask = set
        pthread_sigmask(SIG_UNBLOCK, &mask, nil)
    }

    /// Waits up to `timeoutSeconds` for one of the blocked signals.
    package static func wait(timeoutSeconds: Double) -> Received? {
        var mask = set
        var timeout = timespec(
            tv_sec: Int(timeoutSeconds), tv_nsec: Int((timeoutSeconds - Double(Int(timeoutSeconds))) * 1e9))
        let signal = sigtimedwait(&mask, nil, &timeout)
        switch signal {
        case SIGHUP: return .reload
        case SIGTERM, SIGINT: return .terminate(signal)
        default: return nil
        }
    }
}
