import NIOCore
import NIOHTTP1

/// What the emulator answers to one request, before latency and connection handling are applied.
struct Reply: Sendable {
    enum Disposition: Sendable {
        case send
        /// Drop the connection without a byte of reply (the injected close faults).
        case closeWithoutReply
        /// Send the head (with the full Content-Length) and the first half of the body, then close.
        case cutHalfway
    }

    var status: HTTPResponseStatus
    var headers: [(String, String)] = []
    var contentType = "application/json"
    var body: ByteBuffer
    /// The first Cloudflare error code, for the request log.
    var code: Int?
    var fault: String?
    var disposition = Disposition.send
    /// Added to the configured latency before this reply is written (the slow-reply fault).
    var extraDelayMs = 0
    /// Set for error replies sent before the request body was read; see `HTTPHandler`.
    var closeConnection = false

    static func success(_ result: JSONValue, status: HTTPResponseStatus = .ok) -> Reply {
        Reply(status: status, body: ByteBuffer(string: Envelope.success(result)))
    }

    static func error(_ error: APIError, fault: String? = nil) -> Reply {
        Reply(
            status: error.status, headers: error.headers, body: ByteBuffer(string: Envelope.failure(error)),
            code: error.code, fault: fault)
    }

    static func closed(fault: String) -> Reply {
        Reply(status: .ok, body: ByteBuffer(), fault: fault, disposition: .closeWithoutReply)
    }
}

/// Facts about one request taken from its head, kept until it is answered.
struct RequestInfo: Sendable {
    let sequence: UInt64
    let method: HTTPMethod
    let target: RequestTarget
    let headers: HTTPHeaders
    let receivedAtMillis: Int64
    /// The same instant in microseconds (CLOCK_REALTIME), for latency measurements finer than a millisecond.
    let receivedAtMicros: Int64
}

/// How the body of an accepted request is consumed.
enum BodyPlan: Sendable, Equatable {
    case discard
    case upload(boundary: String)
    case json(limit: Int)
}

/// A request that passed routing, authentication and the rate limit.
struct AcceptedRequest: Sendable {
    let info: RequestInfo
    let route: Route
    /// The account the request acts on (the path's, or the one a batch token was minted for).
    let account: String
    let credentials: Credentials
    let plan: BodyPlan
    /// `Ratelimit: "default";r=R;t=T` as the global limit stood once this request was admitted.
    var rateLimitHeader: (String, String)? = nil
}

enum HeadOutcome {
    case reply(Reply)
    case accept(AcceptedRequest)
}

/// The request body once it has been read according to its plan.
enum RequestBody {
    case none
    case upload(UploadForm)
    case json([UInt8])
}
