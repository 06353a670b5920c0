/// Everything the emulator is started with. Defaults mirror a real account on the free tier's global limits.
public struct EmulatorConfiguration: Sendable {
    public var host: String = "127.0.0.1"
    /// 0 asks the kernel for a free port; read it back from `EmulatorServer.port`.
    public var port: Int = 0
    /// Bearer tokens accepted on the API routes (user-owned tokens). Empty, with no `accountTokens` or
    /// `apiKeys` either: any well-formed token is accepted.
    public var tokens: [String] = []
    /// Account-owned API tokens (`--account-token`): accepted on the account's routes and verified at
    /// `/accounts/{id}/tokens/verify`; `/user/tokens/verify` answers them 401 with code 1000, as Cloudflare does.
    public var accountTokens: [String] = []
    /// The only account id accepted in paths. nil: any 32-hex-digit id.
    public var accountID: String? = nil
    /// The opaque 22-character account hash used in `imagedelivery.net` variant URLs (not the account id).
    public var accountHash: String = "Vi7wi5KSItxGFsWRG2Us6Q"
    public var variantNames: [String] = ["public", "thumbnail"]
    /// Accepted requests per token per window on the API routes (batch routes have their own limit). 0 = unlimited.
    public var rateLimitRequests: Int = 1200
    public var rateLimitWindowSeconds: Double = 300
    /// The real API sends Retry-After only sometimes; clients must cope with both.
    public var rateLimitRetryAfter: Bool = true
    public var batchTokenRequestsPerSecond: Int = 200
    public var batchTokenLifetimeSeconds: Double = 3600
    /// The sha256 of every upload is always kept; the bytes only when this is set (needed by GET …/blob).
    public var storeBytes: Bool = false
    /// Largest accepted file part, in bytes (10 MiB, like the daemon's own pre-flight limit).
    public var maxUploadBytes: Int = 10_485_760
    public var faults: FaultConfiguration = .init()
    public var eventLoopThreads: Int = 2
    /// `url` uploads are fetched from loopback origins only, unless this is set (`--allow-remote-fetch`).
    public var allowRemoteFetch: Bool = false
    /// How long a `url` upload waits for its origin before answering 5454.
    public var fetchTimeoutMillis: Int = 10_000
    /// Global API keys accepted (`--api-key EMAIL:KEY`), by email. Empty: any well-formed email and key.
    public var apiKeys: [String: String] = [:]
    /// For tests of what a client does while its upload is still being sent: each read from a connection's
    /// socket waits this long, and the receive buffer is held at 64 KiB, so a body of megabytes takes seconds
    /// to arrive. 0: read at full speed.
    public var slowReadMs: Int = 0

    public init() {}
}

/// Failures injected on purpose, reproducible for a given seed and request arrival order.
///
/// The random faults are drawn once per API request, from one seeded generator: the six probabilities
/// (`serverErrorProbability`, `rateLimitProbability`, `closeBeforeReplyProbability`, `closeAfterStoreProbability`,
/// `cutReplyProbability`, `slowReplyProbability`) partition one uniform draw, so their sum should stay ≤ 1.
public struct FaultConfiguration: Sendable, Codable, Equatable {
    public var seed: UInt64 = 1
    /// Added before every reply of the API routes (not the admin routes).
    public var latencyMs: Int = 0
    /// A 500, 502 or 503 with a 5500/5503 body.
    public var serverErrorProbability: Double = 0
    /// A 429 with code 971, as if the global limit had been hit.
    public var rateLimitProbability: Double = 0
    /// Retry-After (seconds) sent with injected 429s; nil sends none.
    public var retryAfterSeconds: Int? = nil
    /// Raw `Retry-After` / `retry-after-ms` header values sent with injected 429s and 5xx (and fail-first
    /// 503s), replacing `retryAfterSeconds`: any text at all, to test clients against absurd hints
    /// (`20000000000`, `inf`, `1e400`, a date in year 9999). nil sends none.
    public var retryAfterHeader: String? = nil
    public var retryAfterMsHeader: String? = nil
    /// The connection is closed without a reply; the request had no effect.
    public var closeBeforeReplyProbability: Double = 0
    /// The request takes effect (the image is stored), then the connection is closed without a reply.
    public var closeAfterStoreProbability: Double = 0
    /// The first K upload attempts of each distinct file (by sha256 of the file part) get a 503.
    public var failFirstAttempts: Int = 0
    /// Every authenticated call gets 401 / 10000 until this is cleared.
    public var refuseTokens: Bool = false
    /// The request takes effect, then the reply's head and the first half of its body are sent and the
    /// connection is closed: the client sees a truncated reply to an upload that happened.
    public var cutReplyProbability: Double = 0
    /// The request takes effect and its reply waits `slowReplyMs` more (past a client's timeout, the upload
    /// happened although the client gave up).
    public var slowReplyProbability: Double = 0
    public var slowReplyMs: Int = 0
    /// Tokens are refused (401 / 10000) for this many milliseconds from the moment the setting is applied,
    /// then accepted again without another call: "the token was refused for a while".
    public var refuseTokensForMs: Int = 0
    /// Overrides of the global rate limit (`rateLimitRequests` per `rateLimitWindowMs`), applied at once
    /// without a restart; nil keeps the limit the emulator was started with.
    public var rateLimitRequests: Int? = nil
    public var rateLimitWindowMs: Int? = nil
    /// The account's image quota (`--image-quota`, or changed at run time): an upload that would store an image
    /// beyond it is refused with code 5453 (HTTP 400), and `GET …/images/v1/stats` reports it as
    /// `count.allowed`. nil: no quota (stats say 100,000 allowed, as a paid plan's default).
    public var imageQuota: Int? = nil

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case seed, latencyMs, serverErrorProbability, rateLimitProbability, retryAfterSeconds
        case retryAfterHeader, retryAfterMsHeader
        case closeBeforeReplyProbability, closeAfterStoreProbability, failFirstAttempts, refuseTokens
        case cutReplyProbability, slowReplyProbability, slowReplyMs, refuseTokensForMs
        case rateLimitRequests, rateLimitWindowMs, imageQuota
    }

    /// Missing keys keep their defaults, so `{"latencyMs": 5}` is a complete configuration.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = FaultConfiguration()
        seed = try container.decodeIfPresent(UInt64.self, forKey: .seed) ?? defaults.seed
        latencyMs = try container.decodeIfPresent(Int.self, forKey: .latencyMs) ?? defaults.latencyMs
        serverErrorProbability = try container.decodeIfPresent(Double.self, forKey: .serverErrorProbability) ?? 0
        rateLimitProbability = try container.decodeIfPresent(Double.self, forKey: .rateLimitProbability) ?? 0
        retryAfterSeconds = try container.decodeIfPresent(Int.self, forKey: .retryAfterSeconds)
        retryAfterHeader = try container.decodeIfPresent(String.self, forKey: .retryAfterHeader)
        retryAfterMsHeader = try container.decodeIfPresent(String.self, forKey: .retryAfterMsHeader)
        closeBeforeReplyProbability =
            try container.decodeIfPresent(Double.self, forKey: .closeBeforeReplyProbability) ?? 0
        closeAfterStoreProbability =
            try container.decodeIfPresent(Double.self, forKey: .closeAfterStoreProbability) ?? 0
        failFirstAttempts = try container.decodeIfPresent(Int.self, forKey: .failFirstAttempts) ?? 0
        refuseTokens = try container.decodeIfPresent(Bool.self, forKey: .refuseTokens) ?? false
        cutReplyProbability = try container.decodeIfPresent(Double.self, forKey: .cutReplyProbability) ?? 0
        slowReplyProbability = try container.decodeIfPresent(Double.self, forKey: .slowReplyProbability) ?? 0
        slowReplyMs = try container.decodeIfPresent(Int.self, forKey: .slowReplyMs) ?? 0
        refuseTokensForMs = try container.decodeIfPresent(Int.self, forKey: .refuseTokensForMs) ?? 0
        rateLimitRequests = try container.decodeIfPresent(Int.self, forKey: .rateLimitRequests)
        rateLimitWindowMs = try container.decodeIfPresent(Int.self, forKey: .rateLimitWindowMs)
        imageQuota = try container.decodeIfPresent(Int.self, forKey: .imageQuota)
    }

    /// `retryAfterSeconds` is written as an explicit null so a reader sees every knob.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(seed, forKey: .seed)
        try container.encode(latencyMs, forKey: .latencyMs)
        try container.encode(serverErrorProbability, forKey: .serverErrorProbability)
        try container.encode(rateLimitProbability, forKey: .rateLimitProbability)
        if let retryAfterSeconds {
            try container.encode(retryAfterSeconds, forKey: .retryAfterSeconds)
        } else {
            try container.encodeNil(forKey: .retryAfterSeconds)
        }
        try container.encode(retryAfterHeader, forKey: .retryAfterHeader)
        try container.encode(retryAfterMsHeader, forKey: .retryAfterMsHeader)
        try container.encode(closeBeforeReplyProbability, forKey: .closeBeforeReplyProbability)
        try container.encode(closeAfterStoreProbability, forKey: .closeAfterStoreProbability)
        try container.encode(failFirstAttempts, forKey: .failFirstAttempts)
        try container.encode(refuseTokens, forKey: .refuseTokens)
        try container.encode(cutReplyProbability, forKey: .cutReplyProbability)
        try container.encode(slowReplyProbability, forKey: .slowReplyProbability)
        try container.encode(slowReplyMs, forKey: .slowReplyMs)
        try container.encode(refuseTokensForMs, forKey: .refuseTokensForMs)
        try container.encode(rateLimitRequests, forKey: .rateLimitRequests)
        try container.encode(rateLimitWindowMs, forKey: .rateLimitWindowMs)
        try container.encode(imageQuota, forKey: .imageQuota)
    }
}
