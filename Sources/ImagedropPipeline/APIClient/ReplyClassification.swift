import ImagedropParsing
import ImagedropSystem

/// How one API reply is treated — the single place that encodes DESIGN.md's table "How an API reply is treated".
package enum ReplyClassification: Sendable, Equatable {
    /// 200 with `success: true`.
    case success
    /// 409 or code 5409: the custom id exists (a retry after a lost reply, or the same content).
    case alreadyExists
    /// 408, 429, 5xx, timeouts, connection errors: try again later, honouring `retryAfterMillis`.
    case transient(reason: String, code: Int?, retryAfterMillis: Int64?, rateLimited: Bool)
    /// 401/403, or 400 with 6003/6111/9106: the token or account is refused; pause the whole queue.
    case credentials(reason: String, code: Int?)
    /// Code 5453, "the given account has reached a service limit": the account's image quota is full. Not
    /// about the file and not worth an attempt: pause the whole queue until the account has room. `reason` is
    /// Cloudflare's message.
    case quota(reason: String, code: Int?)
    /// Any other 4xx: this file will never be accepted as it is.
    case permanent(reason: String, code: Int?)

    package static func classify(_ response: HTTPResponse) -> ReplyClassification {
        classify(response, envelope: EnvelopeDecoder.decode(IgnoredResult.self, from: response.body))
    }

    /// The same, from the reply's envelope already decoded (with whatever result type): only its `success` and
    /// messages are read.
    package static func classify<Result>(
        _ response: HTTPResponse, envelope: APIEnvelope<Result>?
    )
        -> ReplyClassification
    {
        let messages = envelope?.errors ?? []
        let codes = messages.flatMap { [$0.code] + ($0.errorChain ?? []).map(\.code) }.compactMap { $0 }
        let firstCode = messages.first?.code
        let reason = APIMessage.summary(status: response.status, messages: messages)
        let status = response.status

        if status == 200 || status == 201 {
            if envelope?.success == true { return .success }
            return .transient(
                reason: "HTTP \(status) without a successful envelope", code: firstCode,
                retryAfterMillis: nil, rateLimited: false)
        }
        if status == 409 || codes.contains(5409) { return .alreadyExists }
        // By its code, whatever 4xx carries it (the status Cloudflare sends with 5453 is not documented): read
        // as a 403 it would pause for the token, read as a 400 it would fail every queued file.
        if (400..<500).contains(status), status != 429, codes.contains(quotaCode) {
            return .quota(reason: quotaMessage(messages) ?? reason, code: quotaCode)
        }
        if status == 429 {
            return .transient(
                reason: reason, code: firstCode, retryAfterMillis: RetryAfter.parse(response.headers),
                rateLimited: true)
        }
        if status == 408 || status >= 500 || status < 200 {
            return .transient(
                reason: reason, code: firstCode, retryAfterMillis: RetryAfter.parse(response.headers),
                rateLimited: false)
        }
        if status == 401 || status == 403 { return .credentials(reason: reason, code: firstCode) }
        // 9103: an unknown Global API Key or email (sent with 400 or 403).
        if status == 400, codes.contains(where: { [6003, 6111, 9103, 9106].contains($0) }) {
            return .credentials(reason: reason, code: firstCode)
        }
        if (300..<400).contains(status) {
            return .permanent(
                reason: "HTTP \(status): unexpected redirect (check cloudflare.api_base_url)", code: firstCode)
        }
        return .permanent(reason: reason, code: firstCode)
    }

    /// Cloudflare's code for a full image quota.
    package static let quotaCode = 5453

    /// The message Cloudflare gave with 5453 ("The given account has reached a service limit …"), on one bounded
    /// line, for the pause reason `quota reached: …`; nil when it gave none.
    package static func quotaMessage(_ messages: [APIMessage]) -> String? {
        let entry =
            messages.first { $0.code == quotaCode }
            ?? messages.first { ($0.errorChain ?? []).contains { $0.code == quotaCode } }
        guard let text = entry?.message, !text.isEmpty else { return nil }
        return APIMessage.oneLine(text, limit: 300)
    }

    /// A failure below HTTP, by CurlError.kind. A request that may or may not have reached the API is
    /// transient. Failures of the path to the API are transient here too (a TLS failure says so first:
    /// `TLS: …`); the daemon's workers never see them as replies, because
    /// their APIPathMonitor pauses the queue instead. libcurl refusing imagedrop's own request is permanent.
    package static func classify(_ error: CurlError) -> ReplyClassification {
        switch error.kind {
        case .tls:
            return .transient(reason: error.pauseReason, code: nil, retryAfterMillis: nil, rateLimited: false)
        case .unreachable, .transport, .local:
            return .transient(reason: error.description, code: nil, retryAfterMillis: nil, rateLimited: false)
        case .programming:
            return .permanent(reason: "internal error (libcurl refused the request): \(error.description)", code: nil)
        }
    }
}

package struct IgnoredResult: Decodable {
    package init(from decoder: Decoder) throws {}
}
