import ImagedropSupport
import NIOHTTP1

extension EmulatorCore {
    struct Refusal: Error {
        let error: APIError
        var fault: String? = nil
    }

    /// Credentials, then whether they are known (or refused by the `refuseTokens` fault), then the account,
    /// then the limit that applies: the global one for API tokens, the per-token one for batch tokens.
    /// The third value is the reply's `Ratelimit` header under the global limit (nil for batch tokens and when
    /// unlimited): Cloudflare tells every client what is left of the budget, and imagedrop obeys it.
    func authorize(
        _ match: RouteMatch, headers: HTTPHeaders
    ) -> Result<(Credentials, String, (String, String)?), Refusal> {
        let credentials: Credentials
        switch Auth.credentials(from: headers) {
        case .success(let found): credentials = found
        case .failure(let error): return .failure(Refusal(error: error))
        }
        let now = Timestamp.monotonicNanos()
        let refused = faults.tokensRefused(nowNanos: now)
        switch match.scope {
        case .batch:
            guard case .bearer(let token) = credentials else { return .failure(Refusal(error: .authentication)) }
            if refused { return .failure(Refusal(error: .authentication, fault: "refuse-tokens")) }
            let account: String
            switch batchTokens.validate(token, nowNanos: now) {
            case .success(let owner): account = owner
            case .failure(let error): return .failure(Refusal(error: error))
            }
            if case .refused(let seconds) = batchLimiter.admit(credentials.rateLimitKey, nowNanos: now) {
                return .failure(Refusal(error: .rateLimited(retryAfter: seconds)))
            }
            return .success((credentials, account, nil))
        case .user, .account:
            // Token verification reports a bad token with its own code (1000) rather than 10000.
            let unknown: APIError = match.route == .verifyToken ? .invalidAPIToken : .authentication
            if refused { return .failure(Refusal(error: unknown, fault: "refuse-tokens")) }
            // Configured credentials (tokens or keys) are the only ones accepted; none configured, any
            // well-formed one is.
            let restricted =
                !configuration.tokens.isEmpty || !configuration.accountTokens.isEmpty
                || !configuration.apiKeys.isEmpty
            switch credentials {
            case .bearer(let token):
                let accountOwned = configuration.accountTokens.contains(token)
                if restricted, !accountOwned, !configuration.tokens.contains(token) {
                    return .failure(Refusal(error: unknown))
                }
                // The user's token-verify route does not know account-owned tokens: the same 1000 as an unknown one.
                if accountOwned, match.route == .verifyToken, match.scope == .user {
                    return .failure(Refusal(error: .invalidAPIToken))
                }
            case .globalKey(let email, let key):
                if restricted, configuration.apiKeys[email] != key {
                    return .failure(Refusal(error: .unknownGlobalKey))
                }
            }
            var account = ""
            if case .account(let pathAccount) = match.scope {
                if let expected = configuration.accountID, expected != pathAccount {
                    return .failure(Refusal(error: .unauthorizedAccount))
                }
                account = pathAccount
            }
            let override = faults.configuration
            let limit = override.rateLimitRequests ?? configuration.rateLimitRequests
            let windowNanos = override.rateLimitWindowMs.map { UInt64($0) * 1_000_000 } ?? globalLimiter.windowNanos
            let (decision, quota) = globalLimiter.admitCounting(
                credentials.rateLimitKey, nowNanos: now, limit: limit, windowNanos: windowNanos)
            let header = quota.map { ("ratelimit", $0.headerValue) }
            if case .refused(let seconds) = decision {
                let retryAfter = configuration.rateLimitRetryAfter ? seconds : nil
                var error = APIError.rateLimited(retryAfter: retryAfter)
                if let header { error.headers.append(header) }
                return .failure(Refusal(error: error))
            }
            return .success((credentials, account, header))
        }
    }

    /// Uploads must be `multipart/form-data` with a boundary (else 415/5415) and not announce a body larger
    /// than the file limit plus room for the other form fields (else 413/5413).
    func bodyPlan(for route: Route, method: HTTPMethod, headers: HTTPHeaders) -> Result<BodyPlan, APIError> {
        switch route {
        case .upload:
            let contentType = headers.first(name: "content-type") ?? ""
            let parameters = HeaderParameters.parse(contentType[...])
            guard parameters.type == "multipart/form-data", let boundary = parameters.value(for: "boundary"),
                !boundary.isEmpty, boundary.utf8.count <= 200
            else { return .failure(.notMultipart) }
            if let length = headers.first(name: "content-length").flatMap(Int.init),
                length > configuration.maxUploadBytes + EmulatorCore.formOverheadBytes
            {
                return .failure(.tooLarge)
            }
            return .success(.upload(boundary: boundary))
        case .image where method == .PATCH:
            return .success(.json(limit: 64 * 1024))
        default:
            return .success(.discard)
        }
    }
}
