import NIOHTTP1

/// What a request presented to authenticate itself.
enum Credentials: Equatable, Sendable {
    case bearer(String)
    case globalKey(email: String, key: String)

    /// The key the global rate limit counts under ("per user/account token" in the docs).
    var rateLimitKey: String {
        switch self {
        case .bearer(let token): return "token:" + token
        case .globalKey(let email, _): return "key:" + email
        }
    }

    var secret: String {
        switch self {
        case .bearer(let token): return token
        case .globalKey(_, let key): return key
        }
    }
}

/// Header checks in the order the real API applies them: presence (9106), then shape (6003 with a 61xx chain);
/// whether the credential is known is decided by the caller, which knows the configured tokens.
enum Auth {
    static func credentials(from headers: HTTPHeaders) -> Result<Credentials, APIError> {
        if let authorization = headers.first(name: "authorization") {
            guard let token = bearerToken(authorization) else { return .failure(.malformedAuthorization) }
            return .success(.bearer(token))
        }
        let email = headers.first(name: "x-auth-email")
        let key = headers.first(name: "x-auth-key")
        guard let email, let key else { return .failure(.missingAuth) }
        guard isGlobalKeyShaped(key) else { return .failure(.malformedAuthKey) }
        guard email.contains("@"), !email.contains(" ") else { return .failure(.malformedAuthEmail) }
        return .success(.globalKey(email: email, key: key))
    }

    /// `Bearer <token>` with a token of RFC 6750 `b64token` characters. Real API tokens are 40 characters of
    /// `[A-Za-z0-9_-]`; any length is accepted here so tests can use readable tokens.
    static func bearerToken(_ header: String) -> String? {
        let parts = header.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty else { return nil }
        let allowed = parts[1].utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"), UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "="):
                return true
            default:
                return false
            }
        }
        return allowed ? String(parts[1]) : nil
    }

    /// Global API keys are 37 lowercase hex digits.
    static func isGlobalKeyShaped(_ key: String) -> Bool {
        key.utf8.count == 37 && key.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
