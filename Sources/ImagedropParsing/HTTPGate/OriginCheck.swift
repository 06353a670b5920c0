/// Refuses a POST that a browser says came from another site: a second layer behind the CSRF token and the
/// bearer token, for clients that send the headers (every current browser does). Absent headers pass: curl and
/// scripts send neither.
package enum OriginCheck {
    /// `Sec-Fetch-Site`: only `same-origin`, or `none` (the user's own navigation). `same-site` is refused too:
    /// another port of localhost is another program.
    /// `Origin`: `null` is refused; otherwise its authority must be the request's own Host, or a name listed in
    /// `allowed_hosts` (a proxy that rewrites Host keeps the browser's Origin).
    package static func isCrossSite(headers: [(String, String)], host: String?, rule: HostRule) -> Bool {
        for value in HeaderFields.values(headers, "sec-fetch-site") {
            let site = HeaderFields.lowercased(HeaderFields.trimmed(value))
            guard site == "same-origin" || site == "none" else { return true }
        }
        for value in HeaderFields.values(headers, "origin") {
            guard let authority = authority(ofOrigin: HeaderFields.trimmed(value)) else { return true }
            if let host, HeaderFields.lowercased(authority) == HeaderFields.lowercased(HeaderFields.trimmed(host)) {
                continue
            }
            guard let origin = HostAddress.parse(authority), rule.isListed(origin) else { return true }
        }
        return false
    }

    /// `http://host[:port]` or `https://host[:port]` (an Origin has no path); nil for `null` or anything else.
    package static func authority(ofOrigin origin: String) -> String? {
        let lowered = HeaderFields.lowercased(origin)
        for scheme in ["http://", "https://"] where lowered.utf8.starts(with: scheme.utf8) {
            let authority = String(decoding: origin.utf8.dropFirst(scheme.utf8.count), as: UTF8.self)
            guard !authority.isEmpty, !authority.utf8.contains(UInt8(ascii: "/")) else { return nil }
            return authority
        }
        return nil
    }
}
