import Glibc
import NIOHTTP1
import Synchronization

/// The emulated service: routing, auth, limits, faults and the image table, independent of the transport.
/// The channel handler calls `begin` with a request head and `finish` once the body has been read.
final class EmulatorCore: Sendable {
    let configuration: EmulatorConfiguration
    let store = ImageStore()
    let log = RequestLog()
    let faults: FaultInjector
    let globalLimiter: SlidingWindowLimiter
    let batchLimiter: SlidingWindowLimiter
    let batchTokens: BatchTokenRegistry
    let imageJSON: ImageJSON
    private let sequence = Atomic<UInt64>(0)

    /// Room for the non-file parts of an upload form when judging a body by its Content-Length.
    static let formOverheadBytes = 64 * 1024

    init(_ configuration: EmulatorConfiguration) {
        self.configuration = configuration
        faults = FaultInjector(configuration.faults)
        globalLimiter = SlidingWindowLimiter(
            limit: configuration.rateLimitRequests, windowSeconds: configuration.rateLimitWindowSeconds)
        batchLimiter = SlidingWindowLimiter(limit: configuration.batchTokenRequestsPerSecond, windowSeconds: 1)
        batchTokens = BatchTokenRegistry(lifetimeSeconds: configuration.batchTokenLifetimeSeconds)
        imageJSON = ImageJSON(accountHash: configuration.accountHash, variantNames: configuration.variantNames)
    }

    func makeRequestInfo(_ head: HTTPRequestHead) -> RequestInfo {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let micros = Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1_000
        return RequestInfo(
            sequence: sequence.add(1, ordering: .relaxed).newValue, method: head.method,
            target: RequestTarget(head.uri), headers: head.headers, receivedAtMillis: micros / 1_000,
            receivedAtMicros: micros)
    }

    /// Routing, then authentication, then the account, then the rate limit — the order the real API applies —
    /// and finally what the body must look like (checked before it is read, so `Expect: 100-continue` clients
    /// are refused without sending it).
    func begin(_ info: RequestInfo) -> HeadOutcome {
        let match: RouteMatch
        switch Router.match(method: info.method, rawPath: info.target.rawPath) {
        case .success(let found): match = found
        case .failure(let error): return .reply(respond(info, .error(error)))
        }
        let credentials: Credentials
        let account: String
        let rateLimitHeader: (String, String)?
        switch authorize(match, headers: info.headers) {
        case .success(let accepted): (credentials, account, rateLimitHeader) = accepted
        case .failure(let refusal): return .reply(respond(info, .error(refusal.error, fault: refusal.fault)))
        }
        let plan: BodyPlan
        switch bodyPlan(for: match.route, method: info.method, headers: info.headers) {
        case .success(let found): plan = found
        case .failure(let error): return .reply(respond(info, .error(error)))
        }
        return .accept(
            AcceptedRequest(
                info: info, route: match.route, account: account, credentials: credentials, plan: plan,
                rateLimitHeader: rateLimitHeader))
    }

    /// The reply, with the budget's `Ratelimit` header the real API sends on every reply it counted.
    func finish(_ request: AcceptedRequest, body: RequestBody) -> Reply {
        var reply = operate(request, body: body)
        if let header = request.rateLimitHeader { reply.headers.append(header) }
        return reply
    }

    /// Injected faults first (they stand for failures in front of the service), then the operation itself.
    private func operate(_ request: AcceptedRequest, body: RequestBody) -> Reply {
        var fileSHA256: String?
        if case .upload(let form) = body { fileSHA256 = form.file?.sha256 }
        if let fileSHA256, faults.shouldFailAttempt(fileSHA256: fileSHA256) {
            var error = APIError.serverError(status: .serviceUnavailable)
            error.headers = faults.hintHeaders(rateLimited: false) ?? []
            return respond(request.info, .error(error, fault: "fail-first"), fileSHA256)
        }
        let fault = faults.draw()
        switch fault {
        case .serverError(let status):
            var error = APIError.serverError(status: status)
            error.headers = faults.hintHeaders(rateLimited: false) ?? []
            return respond(request.info, .error(error, fault: fault?.label), fileSHA256)
        case .rateLimit(let retryAfter):
            var error = APIError.rateLimited(retryAfter: retryAfter)
            if let headers = faults.hintHeaders(rateLimited: true) { error.headers = headers }
            return respond(request.info, .error(error, fault: fault?.label), fileSHA256)
        case .closeBeforeReply:
            return respond(request.info, .closed(fault: "close-before-reply"), fileSHA256)
        case .closeAfterStore, .cutReply, .slowReply, nil:
            break
        }
        // These faults come after the request took effect: the image is stored whatever the client sees.
        var reply = perform(request, body: body)
        switch fault {
        case .closeAfterStore: reply.disposition = .closeWithoutReply
        case .cutReply: reply.disposition = .cutHalfway
        case .slowReply(let milliseconds): reply.extraDelayMs = milliseconds
        default: break
        }
        if let fault, fault.takesEffect { reply.fault = fault.label }
        return respond(request.info, reply, fileSHA256)
    }

    /// The body could not be accepted while it arrived (too large, malformed form).
    func bodyRefused(_ request: AcceptedRequest, _ error: UploadBodyError) -> Reply {
        respond(request.info, .error(error.apiError))
    }

    /// The client went away before the request was complete.
    func recordAbandoned(_ info: RequestInfo) {
        log.record(sequence: info.sequence, entry(info, status: 0, code: nil, fault: nil, fileSHA256: nil))
    }

    func respond(_ info: RequestInfo, _ reply: Reply, _ fileSHA256: String? = nil) -> Reply {
        let status = reply.disposition == .closeWithoutReply ? 0 : Int(reply.status.code)
        let retryAfter = status == 0 ? nil : reply.headers.first { $0.0.lowercased() == "retry-after" }?.1
        log.record(
            sequence: info.sequence,
            entry(
                info, status: status, code: reply.code, fault: reply.fault, fileSHA256: fileSHA256,
                retryAfter: retryAfter))
        return reply
    }

    private func entry(
        _ info: RequestInfo, status: Int, code: Int?, fault: String?, fileSHA256: String?, retryAfter: String? = nil
    ) -> LoggedRequest {
        LoggedRequest(
            method: info.method.rawValue, path: String(info.target.rawPath), status: status, code: code,
            receivedAtMillis: info.receivedAtMillis, fault: fault, fileSHA256: fileSHA256,
            receivedAtMicros: info.receivedAtMicros, retryAfter: retryAfter)
    }

    private func perform(_ request: AcceptedRequest, body: RequestBody) -> Reply {
        switch request.route {
        case .upload:
            guard case .upload(let form) = body else { return .error(.notMultipart) }
            return upload(form, account: request.account)
        case .image(let id):
            switch request.info.method {
            case .GET: return getImage(id)
            case .DELETE: return deleteImage(id)
            default:
                guard case .json(let bytes) = body else { return .error(.badRequest("ERROR 5400: Bad request")) }
                return patchImage(id, body: bytes)
            }
        case .imageBlob(let id, let wholePathID):
            return store.get(wholePathID) != nil ? getImage(wholePathID) : blob(id)
        case .listV1: return listV1(request.info.target)
        case .listV2: return listV2(request.info.target)
        case .stats: return stats()
        case .batchToken: return mintBatchToken(account: request.account)
        case .variants: return variants()
        case .signingKeys: return signingKeys()
        case .verifyToken: return verify(request.credentials)
        }
    }

    func reset() {
        store.removeAll()
        log.removeAll()
        faults.resetCounters()
        globalLimiter.removeAll()
        batchLimiter.removeAll()
    }
}
