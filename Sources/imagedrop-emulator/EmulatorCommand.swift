import ArgumentParser
@preconcurrency import Glibc
import ImagedropSupport
import ImagesEmulator

/// `imagedrop-emulator`: the Cloudflare Images API on loopback, for tests, demos and benchmarks.
@main
struct EmulatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imagedrop-emulator",
        abstract: "A local emulator of the Cloudflare Images API.",
        discussion: """
            The first line on stdout is `listening on http://HOST:PORT`; the API root is then \
            http://HOST:PORT/client/v4. Admin routes: GET/PUT /__emulator/faults, GET /__emulator/log, \
            POST /__emulator/reset. Exits 0 on SIGTERM or SIGINT.

            Example: imagedrop-emulator --port 0 --token test-token-0123456789
            Exit codes: 0 stopped by SIGTERM/SIGINT; 64 usage.
            """,
        // It links neither libcurl nor SQLite (SwiftNIO serves the API), so there are no library versions to show.
        version: "imagedrop-emulator \(BuildInfo.version) (commit \(BuildInfo.commit))")

    @Option(help: "Address to bind (loopback by default).") var host = "127.0.0.1"
    @Option(help: "Port to bind; 0 picks a free one.") var port = 0
    @Option(
        name: .customLong("token"), help: "Accept only this bearer token (repeatable). Default: any well-formed token.")
    var tokens: [String] = []
    @Option(
        name: .customLong("account-token"),
        help:
            "Accept this account-owned API token (repeatable): verified only at /accounts/ID/tokens/verify; /user/tokens/verify answers it 401/1000."
    )
    var accountTokens: [String] = []
    @Option(name: .customLong("account-id"), help: "Accept only this account id. Default: any 32-hex id.")
    var accountID: String?
    @Option(
        name: .customLong("variant"),
        help: "A variant name for the returned URLs (repeatable). Default: public, thumbnail.")
    var variants: [String] = []
    @Option(name: .customLong("rate-limit"), help: "Requests per token per window; 0 = unlimited.") var rateLimit = 1200
    @Option(name: .customLong("rate-window"), help: "Rate-limit window in seconds.") var rateWindow = 300.0
    @Flag(name: .customLong("no-retry-after"), help: "Send no Retry-After with the global-limit 429.")
    var noRetryAfter = false
    @Flag(name: .customLong("store-bytes"), help: "Keep uploaded bytes (for GET …/blob).") var storeBytes = false
    @Option(name: .customLong("latency-ms"), help: "Latency added before every API reply.") var latencyMs = 0
    @Option(name: .customLong("error-rate"), help: "Probability of a 500/502/503.") var errorRate = 0.0
    @Option(name: .customLong("429-rate"), help: "Probability of an injected 429 (code 971).") var rateLimitRate = 0.0
    @Option(name: .customLong("retry-after"), help: "Retry-After seconds sent with injected 429s (default: none).")
    var retryAfter: Int?
    @Option(
        name: .customLong("close-before-reply"), help: "Probability of closing the connection without reply or effect.")
    var closeBeforeReply = 0.0
    @Option(
        name: .customLong("close-after-store"), help: "Probability of storing the image, then closing without reply.")
    var closeAfterStore = 0.0
    @Option(name: .customLong("fail-first"), help: "The first N upload attempts of each distinct file get a 503.")
    var failFirst = 0
    @Flag(
        name: .customLong("refuse-tokens"), help: "Refuse every token (401/10000) until changed via /__emulator/faults."
    )
    var refuseTokens = false
    @Option(
        name: .customLong("image-quota"),
        help:
            "The account's image quota: uploads beyond N stored images answer 400/5453; stats report it (change it with PUT /__emulator/faults {\"imageQuota\": N})."
    )
    var imageQuota: Int?
    @Option(
        name: .customLong("api-key"),
        help: "Accept only this Global API Key, as EMAIL:KEY (repeatable). Default: any well-formed one.")
    var apiKeys: [String] = []
    @Flag(name: .customLong("allow-remote-fetch"), help: "Let url uploads fetch from origins that are not loopback.")
    var allowRemoteFetch = false
    @Option(name: .customLong("fetch-timeout-ms"), help: "How long a url upload waits for its origin.")
    var fetchTimeoutMs = 10_000
    @Option(help: "Seed of the fault generator.") var seed: UInt64 = 1
    @Option(help: "Event loop threads.") var threads = 2

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0…65535") }
        for (name, value) in [
            ("--error-rate", errorRate), ("--429-rate", rateLimitRate),
            ("--close-before-reply", closeBeforeReply), ("--close-after-store", closeAfterStore),
        ] {
            guard (0...1).contains(value) else { throw ValidationError("\(name) must be a probability from 0 to 1") }
        }
        guard errorRate + rateLimitRate + closeBeforeReply + closeAfterStore <= 1 else {
            throw ValidationError("the four fault probabilities must add up to at most 1")
        }
        for entry in apiKeys where !entry.contains(":") || entry.hasPrefix(":") || entry.hasSuffix(":") {
            throw ValidationError("--api-key must be EMAIL:KEY")
        }
        guard fetchTimeoutMs >= 1 else { throw ValidationError("--fetch-timeout-ms must be ≥ 1") }
        guard rateLimit >= 0, rateWindow > 0 else { throw ValidationError("--rate-limit ≥ 0 and --rate-window > 0") }
        guard (imageQuota ?? 0) >= 0 else { throw ValidationError("--image-quota must be ≥ 0") }
        guard latencyMs >= 0, failFirst >= 0, threads >= 1 else {
            throw ValidationError("--latency-ms and --fail-first must be ≥ 0, --threads ≥ 1")
        }
    }

    func run() throws {
        // Signals are blocked before any thread exists so every thread inherits the mask, and taken
        // synchronously below: no handler can run on a NIO thread, and none is lost before it is armed.
        var signals = sigset_t()
        sigemptyset(&signals)
        for signal in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&signals, signal) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        setvbuf(stdout, nil, _IOLBF, 0)

        let server = try EmulatorServer.start(makeConfiguration())
        print("listening on \(server.baseURL)")
        fflush(stdout)

        var received: Int32 = 0
        repeat {
            sigwait(&signals, &received)
        } while received == SIGHUP  // nothing to reload; keep running
        try server.stop()
    }

    func makeConfiguration() -> EmulatorConfiguration {
        var configuration = EmulatorConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.tokens = tokens
        configuration.accountTokens = accountTokens
        for entry in apiKeys {
            let colon = entry.lastIndex(of: ":")!
            configuration.apiKeys[String(entry[..<colon])] = String(entry[entry.index(after: colon)...])
        }
        configuration.allowRemoteFetch = allowRemoteFetch
        configuration.fetchTimeoutMillis = fetchTimeoutMs
        configuration.accountID = accountID
        if !variants.isEmpty { configuration.variantNames = variants }
        configuration.rateLimitRequests = rateLimit
        configuration.rateLimitWindowSeconds = rateWindow
        configuration.rateLimitRetryAfter = !noRetryAfter
        configuration.storeBytes = storeBytes
        configuration.eventLoopThreads = threads
        var faults = FaultConfiguration()
        faults.seed = seed
        faults.latencyMs = latencyMs
        faults.serverErrorProbability = errorRate
        faults.rateLimitProbability = rateLimitRate
        faults.retryAfterSeconds = retryAfter
        faults.closeBeforeReplyProbability = closeBeforeReply
        faults.closeAfterStoreProbability = closeAfterStore
        faults.failFirstAttempts = failFirst
        faults.refuseTokens = refuseTokens
        faults.imageQuota = imageQuota
        configuration.faults = faults
        return configuration
    }
}
