/// Everything the status endpoint decides about a request before doing anything for it, as one pure function
/// of its method, target, headers and body: the head's size, whether its Host names this server, the body's
/// declared size, the route, and for the actions the credentials (bearer token, CSRF token, Origin).
///
/// It imports nothing beyond Glibc (through `HostAddress`), holds no NIO type and never traps, whatever the
/// strings hold: it is the fuzzing surface of the endpoint. The NIO handler calls `decide` twice per request:
/// with `body: nil` when the head arrives (a refusal then is answered at once and the body is never read), and
/// with the body once the request is whole (only then are the checks that need the body made).
package struct RequestGate: Sendable {
    package struct Header: Equatable, Sendable {
        package var name: String
        package var value: String
    }

    /// What the client gets instead of an answer: a status and a one-line message.
    package struct Refusal: Equatable, Sendable {
        package var status: Int
        package var message: String
        package var headers: [Header] = []

        package init(status: Int, message: String, headers: [Header] = []) {
            self.status = status
            self.message = message
            self.headers = headers
        }
    }

    package enum Decision: Equatable, Sendable {
        case refuse(Refusal)
        /// Answer this route (with `body: nil`: nothing found wrong yet, read the body).
        case proceed(StatusRoute)
    }

    package struct Policy: Sendable {
        package var hosts: HostRule
        /// `[http] actions`.
        package var actions: Bool
        /// `[http] token_file`'s token, when set.
        package var bearerToken: [UInt8]?
        /// `allow_remote = true`: the bearer token is then the only credential an action is taken with.
        package var bearerRequired: Bool
        /// The HMAC of the daemon's CSRF key (see `CSRFToken`).
        package var csrfSign: CSRFToken.Sign
        package var maxBodyBytes: Int

        package init(
            hosts: HostRule, actions: Bool, bearerToken: [UInt8]?, bearerRequired: Bool,
            csrfSign: @escaping CSRFToken.Sign, maxBodyBytes: Int = 16 << 10
        ) {
            self.hosts = hosts
            self.actions = actions
            self.bearerToken = bearerToken
            self.bearerRequired = bearerRequired
            self.csrfSign = csrfSign
            self.maxBodyBytes = maxBodyBytes
        }
    }

    package let policy: Policy

    package init(policy: Policy) { self.policy = policy }

    /// `isHTTP10`: an HTTP/1.0 request may lack a Host (no browser sends one without it).
    package func decide(
        method: String, uri: String, headers: [(String, String)], body: [UInt8]?, isHTTP10: Bool = false,
        nowSeconds: Int64
    ) -> Decision {
        if let refusal = HeadBudget.check(uri: uri, headers: headers) { return .refuse(refusal) }
        guard let target = Target(uri) else { return .refuse(Refusal(status: 400, message: "bad request target")) }
        let hosts = HeaderFields.values(headers, "host")
        if let refusal = hostRefusal(hosts, target: target, isHTTP10: isHTTP10) { return .refuse(refusal) }
        if let refusal = bodyRefusal(headers) { return .refuse(refusal) }
        let decision = StatusRoute.resolve(method: method, path: target.path)
        guard case .proceed(let route) = decision, route.isAction else { return decision }
        guard policy.actions else {
            return .refuse(Refusal(status: 403, message: "actions are off ([http] actions = false)"))
        }
        if OriginCheck.isCrossSite(headers: headers, host: hosts.first, rule: policy.hosts) {
            return .refuse(Refusal(status: 403, message: "cross-origin request refused"))
        }
        switch BearerCheck.check(headers: headers, token: policy.bearerToken) {
        case .valid:
            return .proceed(route)
        case .invalid:
            return .refuse(Self.unauthorized)
        case .absent where policy.bearerRequired:
            return .refuse(Self.unauthorized)
        case .absent:
            guard let body else { return .proceed(route) }
            guard let token = CSRFToken.find(headers: headers, body: body),
                CSRFToken.verify(token, nowSeconds: nowSeconds, sign: policy.csrfSign)
            else {
                return .refuse(Refusal(status: 403, message: "missing, expired or wrong CSRF token (reload the page)"))
            }
            return .proceed(route)
        }
    }

    package static let unauthorized = Refusal(
        status: 401, message: "missing or wrong bearer token ([http] token_file)",
        headers: [Header(name: "WWW-Authenticate", value: "Bearer realm=\"imagedrop\"")])

    /// Exactly one Host, naming this server (see `HostRule`); an absolute-form target's authority is held to the
    /// same rule, since a server must take it over the Host header.
    private func hostRefusal(_ hosts: [String], target: Target, isHTTP10: Bool) -> Refusal? {
        let misdirected = Refusal(
            status: 421,
            message: "misdirected request: this server answers only to its listen address, "
                + "localhost, loopback addresses and [http] allowed_hosts")
        guard hosts.count <= 1 else { return misdirected }
        if let authority = target.authority, !policy.hosts.allows(authority) { return misdirected }
        guard let host = hosts.first else { return isHTTP10 || target.authority != nil ? nil : misdirected }
        return policy.hosts.allows(host) ? nil : misdirected
    }

    /// A declared body larger than the endpoint reads is refused before it is sent; the decoder takes chunked
    /// bodies apart and the handler counts them as they come.
    private func bodyRefusal(_ headers: [(String, String)]) -> Refusal? {
        let lengths = HeaderFields.values(headers, "content-length").map(HeaderFields.trimmed)
        guard let length = lengths.first else { return nil }
        guard lengths.allSatisfy({ $0 == length }), !length.isEmpty,
            length.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
        else { return Refusal(status: 400, message: "bad Content-Length") }
        // More digits than the limit has is too large without converting (no overflow on 30 digits).
        let digits = length.utf8.drop { $0 == 0x30 }
        guard digits.count <= 18, Int(String(decoding: digits, as: UTF8.self)) ?? 0 <= policy.maxBodyBytes else {
            return Refusal(status: 413, message: "request body too large")
        }
        return nil
    }

    /// The request target: origin-form (`/path?query`) or absolute-form (`http://authority/path`, which proxies
    /// send). `*` and anything else are not targets this server has.
    struct Target {
        var path: String
        var authority: String?

        init?(_ uri: String) {
            if let path = StatusRoute.path(ofOriginForm: uri) {
                self.path = path
                authority = nil
                return
            }
            let lowered = HeaderFields.lowercased(uri)
            guard let scheme = ["http://", "https://"].first(where: { lowered.utf8.starts(with: $0.utf8) }) else {
                return nil
            }
            let rest = uri.utf8.dropFirst(scheme.utf8.count)
            let slash = rest.firstIndex(of: UInt8(ascii: "/")) ?? rest.endIndex
            let end = rest.firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? rest.endIndex
            let authorityEnd = min(slash, end)
            authority = String(decoding: rest[rest.startIndex..<authorityEnd], as: UTF8.self)
            let pathText = String(decoding: rest[authorityEnd...], as: UTF8.self)
            path = StatusRoute.path(ofOriginForm: pathText) ?? "/"
        }
    }
}
