/// `Authorization: Bearer <token>` against the token of `[http] token_file`. A browser never adds this header
/// to a request another site makes (not without a CORS preflight the endpoint does not answer), so a valid one
/// is a credential a forged form cannot carry.
package enum BearerCheck: Equatable, Sendable {
    /// No Authorization header, or no token configured (then the header is someone else's business, e.g. a
    /// proxy's own scheme, and the CSRF token decides).
    case absent
    case valid
    /// Present but not the token (or not a single `Bearer` credential).
    case invalid

    package static func check(headers: [(String, String)], token: [UInt8]?) -> BearerCheck {
        guard let token else { return .absent }
        let values = HeaderFields.values(headers, "authorization")
        guard let value = values.first else { return .absent }
        guard values.count == 1 else { return .invalid }
        let bytes = Array(HeaderFields.trimmed(value).utf8)
        // The scheme is case-insensitive (RFC 9110 §11.1), then one or more spaces.
        let scheme = Array("bearer".utf8)
        guard bytes.count > scheme.count, bytes.prefix(scheme.count).map(HeaderFields.lower) == scheme,
            bytes[scheme.count] == 0x20
        else { return .invalid }
        let credential = Array(bytes.dropFirst(scheme.count).drop { $0 == 0x20 })
        return ConstantTime.equal(credential, token) ? .valid : .invalid
    }
}
