/// The user-info of an http(s) URL (`user:password@` or `token@` before the host) and the forms of the URL
/// without it. Any user-info is a credential: basic-auth origins take `user:password`, and token-authenticated
/// ones (`https://ghp_TOKEN@host/…`) take the secret alone, as the user name. So the whole user-info is
/// hidden wherever a URL is shown — `https://***@host/…`, or `https://user:***@host/…` when a `:` separates
/// a user name from a password — and left out entirely of what is sent to Cloudflare as metadata.
///
/// The authority is what follows `://` up to the first `/`, `?` or `#`, and the user-info is the authority
/// up to its last `@`: an `@` in the path, query or fragment is not user-info, the colons of an IPv6 host
/// literal come after it, and a percent-encoded `%3A` or `%40` is part of a name, not a separator.
package struct URLUserInfo: Sendable, Equatable {
    /// `scheme://`
    package let prefix: Substring
    /// Between `://` and the last `@` of the authority (may be empty: `https://@host`).
    package let userInfo: Substring
    /// From the host on: `host[:port]/path?query#fragment`.
    package let rest: Substring

    /// Nil when the URL has no `://` or no user-info.
    package init?(_ url: String) {
        guard let schemeEnd = url.firstRange(of: "://") else { return nil }
        let afterScheme = url[schemeEnd.upperBound...]
        let authorityEnd = afterScheme.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? afterScheme.endIndex
        guard let at = afterScheme[..<authorityEnd].lastIndex(of: "@") else { return nil }
        prefix = url[..<schemeEnd.upperBound]
        userInfo = afterScheme[..<at]
        rest = afterScheme[afterScheme.index(after: at)...]
    }

    /// The user name shown beside `***`: what precedes the first `:`, or nil when the user-info is a secret as a
    /// whole — no `:` (a token), or a user name that is itself the credential (`userNameIsCredential`).
    package var shownUser: Substring? {
        guard let colon = userInfo.firstIndex(of: ":") else { return nil }
        let user = userInfo[..<colon]
        return Self.userNameIsCredential(user, password: userInfo[userInfo.index(after: colon)...]) ? nil : user
    }

    /// The part that is never shown: the password, or the whole user-info when no user name is shown.
    package var secret: Substring {
        guard shownUser != nil, let colon = userInfo.firstIndex(of: ":") else { return userInfo }
        return userInfo[userInfo.index(after: colon)...]
    }

    /// The user name when it is hidden although a `:` follows it (`TOKEN:x-oauth-basic`): a message quoting the
    /// user name alone must lose it too.
    package var hiddenUser: Substring? {
        guard shownUser == nil, let colon = userInfo.firstIndex(of: ":") else { return nil }
        return userInfo[..<colon]
    }

    /// Forges put the token in the user name and a fixed word (or nothing) in the password —
    /// `https://TOKEN:x-oauth-basic@github.com/…`, `https://TOKEN:@host/…` — and a token pasted as a user name
    /// looks like one (a known prefix, or a long run of letters and digits). Showing such a user name would show
    /// the credential, so the whole user-info is hidden (`***@`), which DESIGN allows for any user-info.
    static func userNameIsCredential(_ user: Substring, password: Substring) -> Bool {
        if password.isEmpty || password.lowercased() == "x-oauth-basic" { return true }
        let lowered = user.lowercased()
        if tokenPrefixes.contains(where: { lowered.hasPrefix($0) }) { return true }
        let tokenish = user.utf8.allSatisfy { isTokenCharacter($0) }
        let hasDigit = user.utf8.contains { $0 >= 0x30 && $0 <= 0x39 }
        let hasLetter = user.utf8.contains { ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A }
        return user.utf8.count >= 24 && tokenish && hasDigit && hasLetter
    }

    /// GitHub (classic, fine-grained, OAuth, app, refresh), GitLab, Slack and AWS access keys.
    private static let tokenPrefixes = [
        "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "xoxb-",
        "xoxp-", "akia",
    ]

    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A) || byte == 0x2D
            || byte == 0x5F || byte == 0x2E || byte == 0x25
    }

    /// `scheme://user:***@host/…` or `scheme://***@host/…`.
    package var redacted: String {
        String(prefix) + (shownUser.map { $0 + ":" } ?? "") + "***@" + rest
    }

    /// `scheme://host/…`: no trace of a credential (what imagedrop puts in the image's metadata).
    package var withoutUserInfo: String { String(prefix) + rest }
}
