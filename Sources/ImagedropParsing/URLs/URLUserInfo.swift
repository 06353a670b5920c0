/// The user-info of an http(s) URL (`user:password@` or `token@` before the host) and the forms of the URL
/// without it. Any user-info is a credential: basic-auth origins take `user:password`, and token-authenticated
/// ones (`https://ghp_TOKEN@host/…`) take the secret alone, as the user name. So the whole user-info is
/// hidden wherever a URL is shown — `https://***@host/…`, or `https://user:***@host/…` when a `:` separates
/// a user name from a password — and left out entirely of what is sent to Cloudflare as metadata.
///
/// The authority is what follows `://` up to the first `/`, `?` or `#`, and the user-info is the authority
/// up to its last `@`: an `@` in the path, query or fragment is not user-info, the colons of an IPv6 host
/// literal come after it, and a percent-encoded `%3A` or `%40` is part of a name, not a separator.
public struct URLUserInfo: Sendable, Equatable {
    /// `scheme://`
    public let prefix: Substring
    /// Between `://` and the last `@` of the authority (may be empty: `https://@host`).
    public let userInfo: Substring
    /// From the host on: `host[:port]/path?query#fragment`.
    public let rest: Substring

    /// Nil when the URL has no `://` or no user-info.
    public init?(_ url: String) {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let afterScheme = url[schemeEnd.upperBound...]
        let authorityEnd = afterScheme.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? afterScheme.endIndex
        guard let at = afterScheme[..<authorityEnd].lastIndex(of: "@") else { return nil }
        prefix = url[..<schemeEnd.upperBound]
        userInfo = afterScheme[..<at]
        rest = afterScheme[afterScheme.index(after: at)...]
    }

    /// The user name shown beside `***`: what precedes the first `:`, or nil when there is no `:` (the
    /// user-info is then a secret as a whole, a token).
    public var shownUser: Substring? {
        userInfo.firstIndex(of: ":").map { userInfo[..<$0] }
    }

    /// The part that is never shown: the password, or the whole user-info when it has no `:`.
    public var secret: Substring {
        guard let colon = userInfo.firstIndex(of: ":") else { return userInfo }
        return userInfo[userInfo.index(after: colon)...]
    }

    /// `scheme://user:***@host/…` or `scheme://***@host/…`.
    public var redacted: String {
        String(prefix) + (shownUser.map { $0 + ":" } ?? "") + "***@" + rest
    }

    /// `scheme://host/…`: no trace of a credential (what imagedrop puts in the image's metadata).
    public var withoutUserInfo: String { String(prefix) + rest }
}
