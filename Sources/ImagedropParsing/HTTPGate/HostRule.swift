/// Which `Host` values the status endpoint answers: the defence against DNS rebinding. A web page in the
/// operator's browser can point its own name at 127.0.0.1 and then read the endpoint as same-origin, but its
/// requests still say `Host: its-name`; so a request is answered only when its Host names this server:
///
/// - the listen address itself (unless it is a wildcard, 0.0.0.0 or ::, which no client names),
/// - `localhost`, or a loopback address (127.0.0.0/8, [::1]),
/// - a name or address listed in `[http] allowed_hosts` (a reverse proxy's public name),
///
/// case-insensitively and with any port or none (on either side): the port is not what a rebinding page can
/// change, and a proxy on another port forwards its own. A unix-socket listener has no address of its own; the
/// rest still applies, because a proxy in front of the socket may pass a browser's Host through.
package struct HostRule: Sendable {
    private let listen: HostAddress.Kind?
    private let allowed: [HostAddress.Kind]

    /// `listenHost` as the listen key holds it (`127.0.0.1`, `::1`), nil for a unix socket; `allowedHosts` as
    /// written in the config (entries that do not parse match nothing: the config loader refuses them first).
    package init(listenHost: String?, allowedHosts: [String]) {
        listen = listenHost.flatMap(HostAddress.parseLiteral).flatMap { HostAddress.isWildcard($0) ? nil : $0 }
        allowed = allowedHosts.compactMap { HostAddress.parse($0)?.kind }
    }

    /// Whether a request whose Host header (or absolute-form authority) is `value` is for this server.
    package func allows(_ value: String) -> Bool {
        guard let host = HostAddress.parse(value) else { return false }
        return allows(host)
    }

    package func allows(_ host: HostAddress) -> Bool {
        if host.kind == .name("localhost") || host.isLoopback { return true }
        if let listen, host.kind == listen { return true }
        return isListed(host)
    }

    /// Listed in `allowed_hosts`. A port written in an entry is accepted and, like the request's, not compared.
    package func isListed(_ host: HostAddress) -> Bool { allowed.contains(host.kind) }
}
