import ImagedropStore

/// Token verification for user-owned and account-owned API tokens. Cloudflare verifies a user's token at
/// `/user/tokens/verify` and an account's at `/accounts/{account_id}/tokens/verify`; the user route answers an
/// account-owned token 401 with code 1000 ("Invalid API Token"), exactly as it answers an unknown one. Only the
/// account route tells them apart, so a refusal at the user route is followed by the account route, and the
/// token is good when either accepts it.
extension ImagesClient {
    /// Who owns a token, by the route that accepted it.
    package enum TokenOwner: String, Sendable, Equatable {
        case user
        case account
    }

    package struct TokenVerification: Sendable {
        /// The reply that decides: the one that accepted the token, else the last one received.
        package var reply: Reply
        /// Which route accepted the token; nil when neither did (or the API could not be asked).
        package var owner: TokenOwner?
        /// Why the user route refused, when the account route was asked after it.
        package var userRouteRefusal: String?

        package init(reply: Reply, owner: TokenOwner?, userRouteRefusal: String? = nil) {
            self.reply = reply
            self.owner = owner
            self.userRouteRefusal = userRouteRefusal
        }
    }

    package var userVerifyURL: String { "\(endpoint.apiBaseURL)/user/tokens/verify" }
    package var accountVerifyURL: String { "\(endpoint.apiBaseURL)/accounts/\(endpoint.accountID)/tokens/verify" }

    /// The user route first (most tokens are a user's, and it is one request for them), then, only after a
    /// refusal there, the account route. A transient failure at the user route is not a refusal: it is
    /// returned as it is, for the caller to report the API as unreachable.
    package func verifyToken(token: APIToken, admission: RequestAdmission) throws(Stopped) -> TokenVerification {
        let user = try send(
            method: "GET", url: userVerifyURL, token: token, decodeImage: false, admission: admission)
        switch Self.nextStep(afterUserRoute: user.classification) {
        case .accepted: return TokenVerification(reply: user, owner: .user)
        case .decided: return TokenVerification(reply: user, owner: nil)
        case .askAccountRoute: break
        }
        let account = try send(
            method: "GET", url: accountVerifyURL, token: token, decodeImage: false, admission: admission)
        var refusal: String?
        if case .credentials(let reason, _) = user.classification { refusal = reason }
        if case .success = account.classification {
            return TokenVerification(reply: account, owner: .account, userRouteRefusal: refusal)
        }
        return TokenVerification(reply: account, owner: nil, userRouteRefusal: refusal)
    }

    package enum VerifyStep: Equatable {
        case accepted
        /// Not a refusal of the token (the API failed, or answered something unexpected): no second request.
        case decided
        case askAccountRoute
    }

    /// What the user route's answer leaves to do. Any refusal of the credential (401/1000 is what an
    /// account-owned token gets; 403 or 10000 would be no less a reason to ask its account) leads to the
    /// account route; one extra request for a token that is bad on both is the price.
    package static func nextStep(afterUserRoute classification: ReplyClassification) -> VerifyStep {
        switch classification {
        case .success: .accepted
        case .credentials: .askAccountRoute
        case .transient, .permanent, .quota, .alreadyExists: .decided
        }
    }
}
