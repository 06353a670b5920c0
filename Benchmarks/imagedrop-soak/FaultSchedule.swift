/// One API fault period at a time, each a few seconds, with a quiet gap after it: the per-request failure
/// probability stays bounded, so `max_attempts` is never reached by bad luck and a valid image never fails.
struct FaultSchedule {
    private(set) var activeUntil: Double = 0
    private(set) var quietUntil: Double = 0
    private(set) var current: String?
    private(set) var periods: [String: Int] = [:]

    static let clear = """
        {"serverErrorProbability": 0, "rateLimitProbability": 0, "retryAfterSeconds": null, \
        "closeBeforeReplyProbability": 0, "closeAfterStoreProbability": 0, "cutReplyProbability": 0, \
        "slowReplyProbability": 0, "slowReplyMs": 0, "latencyMs": 0, "refuseTokens": false, \
        "refuseTokensForMs": 1, "rateLimitRequests": null, "rateLimitWindowMs": null}
        """

    /// The next period's settings, or nil while one is under way or the quiet gap lasts.
    mutating func next(now: Double, dice: inout Dice) -> (name: String, json: String)? {
        guard current == nil, now >= quietUntil else { return nil }
        let seconds = Double(dice.int(3...12))
        let seed = dice.next() >> 12
        let (name, body): (String, String)
        switch dice.int(0...9) {
        case 0: (name, body) = ("5xx", #""serverErrorProbability": \#(Double(dice.int(15...35)) / 100)"#)
        case 1:
            (name, body) = (
                "429+Retry-After", #""rateLimitProbability": 0.15, "retryAfterSeconds": \#(dice.int(1...3))"#
            )
        case 2: (name, body) = ("429 bare", #""rateLimitProbability": 0.08, "retryAfterSeconds": null"#)
        case 3: (name, body) = ("close-before-reply", #""closeBeforeReplyProbability": 0.2"#)
        case 4: (name, body) = ("close-after-store", #""closeAfterStoreProbability": 0.25"#)
        case 5: (name, body) = ("cut-reply", #""cutReplyProbability": 0.25"#)
        case 6:
            (name, body) = (
                "slow-reply",
                #""slowReplyProbability": 0.15, "slowReplyMs": \#(World.requestTimeoutSeconds * 1000 + 1500)"#
            )
        case 7: (name, body) = ("token refused", #""refuseTokensForMs": \#(Int(seconds * 1000))"#)
        case 8:
            (name, body) = (
                "short global limit",
                #""rateLimitRequests": \#(dice.int(4...10)), "rateLimitWindowMs": \#(dice.int(2...5) * 1000)"#
            )
        default: (name, body) = ("latency", #""latencyMs": \#(dice.int(50...400))"#)
        }
        activeUntil = now + seconds
        current = name
        periods[name, default: 0] += 1
        return (name, "{\"seed\": \(seed), " + body + "}")
    }

    /// True when the period under way has run out (the caller then sends `clear`).
    mutating func expired(now: Double, dice: inout Dice) -> Bool {
        guard current != nil, now >= activeUntil else { return false }
        current = nil
        quietUntil = now + Double(dice.int(2...8))
        return true
    }
}
