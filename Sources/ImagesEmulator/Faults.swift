import ImagedropSupport
import NIOHTTP1
import Synchronization

/// A fault chosen for one request.
enum InjectedFault: Equatable, Sendable {
    case serverError(HTTPResponseStatus)
    case rateLimit(retryAfterSeconds: Int?)
    case closeBeforeReply
    case closeAfterStore
    case cutReply
    case slowReply(milliseconds: Int)

    /// The faults applied after the request was performed.
    var takesEffect: Bool {
        switch self {
        case .closeAfterStore, .cutReply, .slowReply: return true
        default: return false
        }
    }

    var label: String {
        switch self {
        case .serverError: return "server-error"
        case .rateLimit: return "rate-limit"
        case .closeBeforeReply: return "close-before-reply"
        case .closeAfterStore: return "close-after-store"
        case .cutReply: return "cut-reply"
        case .slowReply: return "slow-reply"
        }
    }
}

/// Owns the fault configuration, the one seeded generator every random decision comes from, and the
/// per-file attempt counters of `failFirstAttempts`. All under one lock, so a given seed and request order
/// always produce the same faults.
final class FaultInjector: Sendable {
    private struct State {
        var configuration: FaultConfiguration
        var generator: SplitMix64
        var attemptsBySHA256: [String: Int] = [:]
        /// Monotonic deadline of `refuseTokensForMs`, fixed when the setting is applied.
        var refuseTokensUntilNanos: UInt64 = 0
    }

    private let state: Mutex<State>

    init(_ configuration: FaultConfiguration) {
        state = Mutex(State(configuration: FaultConfiguration(), generator: SplitMix64(seed: configuration.seed)))
        set(configuration)
    }

    private static func deadline(forMs milliseconds: Int) -> UInt64 {
        milliseconds > 0 ? Timestamp.monotonicNanos() + UInt64(milliseconds) * 1_000_000 : 0
    }

    /// `refuseTokens`, or inside the `refuseTokensForMs` period that began when it was set.
    func tokensRefused(nowNanos: UInt64) -> Bool {
        state.withLock { $0.configuration.refuseTokens || nowNanos < $0.refuseTokensUntilNanos }
    }

    var configuration: FaultConfiguration {
        state.withLock { $0.configuration }
    }

    /// Replaces the configuration and restarts the generator from its seed, so setting the same faults twice
    /// replays the same sequence. A positive `refuseTokensForMs` is a one-shot command: its period starts now
    /// (replacing one under way) and the stored value goes back to 0, so a later partial update of other
    /// keys does not start it again.
    func set(_ configuration: FaultConfiguration) {
        state.withLock { state in
            state.configuration = configuration
            state.generator = SplitMix64(seed: configuration.seed)
            if configuration.refuseTokensForMs > 0 {
                state.refuseTokensUntilNanos = FaultInjector.deadline(forMs: configuration.refuseTokensForMs)
                state.configuration.refuseTokensForMs = 0
            }
        }
    }

    /// Milliseconds left of a `refuseTokensForMs` period (0 when none is under way).
    var refusalRemainingMs: Int {
        state.withLock { state in
            let now = Timestamp.monotonicNanos()
            return state.refuseTokensUntilNanos > now ? Int((state.refuseTokensUntilNanos - now) / 1_000_000) : 0
        }
    }

    /// Counts an upload attempt of the file with this digest; true while it is among the first K.
    func shouldFailAttempt(fileSHA256: String) -> Bool {
        state.withLock { state in
            let limit = state.configuration.failFirstAttempts
            guard limit > 0 else { return false }
            let attempt = (state.attemptsBySHA256[fileSHA256] ?? 0) + 1
            state.attemptsBySHA256[fileSHA256] = attempt
            return attempt <= limit
        }
    }

    /// One uniform draw partitioned by the six probabilities (in the order server error, 429, close before
    /// reply, close after store, cut reply, slow reply); no draw is taken when all are zero, so enabling
    /// faults later does not depend on how many requests came before.
    func draw() -> InjectedFault? {
        state.withLock { state in
            let config = state.configuration
            let thresholds = [
                config.serverErrorProbability, config.rateLimitProbability, config.closeBeforeReplyProbability,
                config.closeAfterStoreProbability, config.cutReplyProbability, config.slowReplyProbability,
            ]
            guard thresholds.contains(where: { $0 > 0 }) else { return nil }
            let roll = state.generator.nextUnit()
            var bound = 0.0
            for (index, probability) in thresholds.enumerated() {
                bound += max(0, probability)
                guard roll < bound else { continue }
                switch index {
                case 0:
                    let statuses: [HTTPResponseStatus] = [.internalServerError, .badGateway, .serviceUnavailable]
                    return .serverError(statuses[Int(state.generator.next() % 3)])
                case 1:
                    return .rateLimit(retryAfterSeconds: config.retryAfterSeconds)
                case 2:
                    return .closeBeforeReply
                case 3:
                    return .closeAfterStore
                case 4:
                    return .cutReply
                default:
                    return .slowReply(milliseconds: config.slowReplyMs)
                }
            }
            return nil
        }
    }

    /// The hint headers for an injected 429 or 5xx: the raw texts when configured, else `retryAfterSeconds`
    /// (429s only, as before).
    func hintHeaders(rateLimited: Bool) -> [(String, String)]? {
        let config = configuration
        var headers: [(String, String)] = []
        if let raw = config.retryAfterHeader { headers.append(("retry-after", raw)) }
        if let raw = config.retryAfterMsHeader { headers.append(("retry-after-ms", raw)) }
        if !headers.isEmpty { return headers }
        if rateLimited, let seconds = config.retryAfterSeconds { return [("retry-after", String(seconds))] }
        return nil
    }

    func resetCounters() {
        state.withLock { $0.attemptsBySHA256.removeAll() }
    }
}
