import ImagedropParsing
import Testing

@testable import ImagedropDaemon

/// The status endpoint's pure decisions, as tables: the Host rule against DNS rebinding, the head budget, the
/// routes, and the actions' credentials (bearer token, per-page CSRF token, Origin). Then hostile input, which
/// must never trap.
@Suite("Request gate")
struct RequestGateTests {
    static let now: Int64 = 1_700_000_000
    /// A stand-in MAC (the daemon's is HMAC-SHA256 through libcrypto): 64 hex digits that depend on the message.
    static let sign: CSRFToken.Sign = { message in
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in message.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(repeating: String(hash, radix: 16).leftPadded(16), count: 4)
    }

    static func gate(
        listen: String? = "127.0.0.1", allowed: [String] = [], actions: Bool = true, token: String? = nil,
        required: Bool = false
    ) -> RequestGate {
        RequestGate(
            policy: RequestGate.Policy(
                hosts: HostRule(listenHost: listen, allowedHosts: allowed), actions: actions,
                bearerToken: token.map { Array($0.utf8) }, bearerRequired: required, csrfSign: sign))
    }

    static func status(_ decision: RequestGate.Decision) -> Int {
        switch decision {
        case .refuse(let refusal): refusal.status
        case .proceed: 200
        }
    }

    static func get(_ gate: RequestGate, _ uri: String = "/", host: String?, extra: [(String, String)] = []) -> Int {
        status(
            gate.decide(
                method: "GET", uri: uri, headers: (host.map { [("Host", $0)] } ?? []) + extra, body: nil,
                nowSeconds: now))
    }

    @Test("Host: the listen address, localhost and loopback with any port or none; anything else is 421")
    func hostRule() {
        let gate = Self.gate(listen: "127.0.0.1")
        for good in [
            "127.0.0.1:9731", "127.0.0.1", "localhost:9731", "localhost", "LOCALHOST:9731", "localhost.",
            "127.5.6.7:80",
            "[::1]:9731", "[::1]", "[0:0:0:0:0:0:0:1]", "[::ffff:127.0.0.1]:9731", "localhost:", " localhost:9731 ",
        ] {
            #expect(Self.get(gate, host: good) == 200, "\(good)")
        }
        for bad in [
            "evil.example:9731", "evil.example", "localhost.evil.example", "127.0.0.1.evil.example", "10.0.0.1:9731",
            "0.0.0.0:9731", "[::2]:9731", "::1", "127.1", "0x7f.0.0.1", "localhost:99999", "localhost:9731x", "",
            "[::1", "[::1]x", "[]", "a:b:c", "host:99999999999999999999", "local host", "localhost\u{0}",
            "127.0.0.1\u{0}.evil",
        ] {
            #expect(Self.get(gate, host: bad) == 421, "\(bad.debugDescription)")
        }
        #expect(Self.get(gate, host: nil) == 421, "HTTP/1.1 without Host")
        #expect(
            Self.status(
                gate.decide(method: "GET", uri: "/", headers: [], body: nil, isHTTP10: true, nowSeconds: Self.now))
                == 200)
        #expect(Self.get(gate, host: "localhost", extra: [("host", "evil.example")]) == 421, "two Host headers")
        // The absolute form's authority is what a server must take, so it is held to the rule too.
        #expect(Self.get(gate, "http://evil.example/status.json", host: "localhost") == 421)
        #expect(Self.get(gate, "http://localhost:9731/status.json?x=1", host: "localhost") == 200)
    }

    @Test(
        "Host: allowed_hosts by name or address, case-insensitively, ports ignored on both sides; a unix socket has no own address"
    )
    func allowedHosts() {
        let gate = Self.gate(listen: "0.0.0.0", allowed: ["status.example.com", "192.168.1.5:9731", "[fe80::1]"])
        for good in [
            "status.example.com", "Status.Example.COM:443", "192.168.1.5", "192.168.1.5:8080", "[fe80::1]:9731",
            "localhost",
        ] {
            #expect(Self.get(gate, host: good) == 200, "\(good)")
        }
        for bad in ["0.0.0.0:9731", "example.com", "x.status.example.com", "192.168.1.6", "[fe80::2]"] {
            #expect(Self.get(gate, host: bad) == 421, "\(bad)")
        }
        let ipv6 = Self.gate(listen: "::1")
        #expect(Self.get(ipv6, host: "[::1]:9731") == 200 && Self.get(ipv6, host: "[::2]:9731") == 421)
        let remote = Self.gate(listen: "192.168.1.5")
        #expect(Self.get(remote, host: "192.168.1.5:9731") == 200 && Self.get(remote, host: "192.168.1.50:9731") == 421)
        let unix = Self.gate(listen: nil)
        #expect(Self.get(unix, host: "localhost") == 200 && Self.get(unix, host: "127.0.0.1") == 200)
        #expect(Self.get(unix, host: "evil.example") == 421)
    }

    @Test("head budget: 64 KiB of target and header lines and 64 lines; past either, 431")
    func headBudget() {
        let gate = Self.gate()
        let host = [("Host", "localhost")]
        // 63 more lines of 1,000 bytes each (plus 4 for ": " and CRLF) fit in 64 KiB with the Host line and target.
        let fits = host + (0..<63).map { ("X-F\($0)", String(repeating: "a", count: 1_000 - "X-F\($0)".count)) }
        #expect(
            Self.status(gate.decide(method: "GET", uri: "/", headers: fits, body: nil, nowSeconds: Self.now)) == 200)
        let tooMany = host + (0..<64).map { ("X-F\($0)", "y") }
        #expect(
            Self.status(gate.decide(method: "GET", uri: "/", headers: tooMany, body: nil, nowSeconds: Self.now)) == 431)
        let tooLarge = host + [("X-Big", String(repeating: "b", count: HeadBudget.maxBytes))]
        #expect(
            Self.status(gate.decide(method: "GET", uri: "/", headers: tooLarge, body: nil, nowSeconds: Self.now)) == 431
        )
        let longTarget = "/" + String(repeating: "t", count: HeadBudget.maxBytes)
        #expect(
            Self.status(gate.decide(method: "GET", uri: longTarget, headers: host, body: nil, nowSeconds: Self.now))
                == 431)
        #expect(
            HeadBudget.check(uri: "/", headers: [("a", String(repeating: "v", count: HeadBudget.maxBytes - 6))]) == nil)
        #expect(
            HeadBudget.check(uri: "/", headers: [("a", String(repeating: "v", count: HeadBudget.maxBytes - 5))]) != nil)
    }

    @Test("routes: method and exact path; 404 and 405 otherwise; a declared body over 16 KiB is 413 before it is read")
    func routes() {
        let cases: [(String, String, RequestGate.Decision)] = [
            ("GET", "/", .proceed(.page)), ("GET", "/?refresh=1", .proceed(.page)),
            ("GET", "/metrics", .proceed(.metrics)),
            ("GET", "/healthz", .proceed(.healthz)), ("GET", "/status.json", .proceed(.statusJSON)),
            ("POST", "/retry-failed", .proceed(.retryFailed)), ("POST", "/jobs/42/retry", .proceed(.retryJob(42))),
            ("POST", "/jobs/000000000000000007/retry", .proceed(.retryJob(7))),
        ]
        let gate = Self.gate(token: "0123456789abcdef0123")
        let bearer = [("Host", "localhost"), ("Authorization", "Bearer 0123456789abcdef0123")]
        for (method, uri, expected) in cases {
            #expect(
                gate.decide(method: method, uri: uri, headers: bearer, body: [], nowSeconds: Self.now) == expected,
                "\(method) \(uri)")
        }
        for (method, uri, status) in [
            ("GET", "/nothing", 404), ("GET", "/jobs/x/retry", 404), ("POST", "/jobs//retry", 404),
            ("POST", "/jobs/1234567890123456789/retry", 404), ("GET", "/healthz/", 404),
            ("GET", "/ＭETRICS", 404), ("GET", "*", 400), ("GET", "", 400), ("DELETE", "/metrics", 405),
            ("GET", "/retry-failed", 405), ("POST", "/", 405), ("HEAD", "/healthz", 405),
        ] {
            #expect(
                Self.status(gate.decide(method: method, uri: uri, headers: bearer, body: nil, nowSeconds: Self.now))
                    == status,
                "\(method) \(uri)")
        }
        let post = [("Host", "localhost")]
        for (length, status) in [
            ("16384", 200), ("16385", 413), ("99999999999999999999999999", 413), ("12x", 400), ("-1", 400),
        ] {
            #expect(
                Self.status(
                    gate.decide(
                        method: "GET", uri: "/", headers: post + [("Content-Length", length)], body: nil,
                        nowSeconds: Self.now)) == status, "\(length)")
        }
        #expect(
            Self.status(
                gate.decide(
                    method: "GET", uri: "/", headers: post + [("Content-Length", "1"), ("Content-Length", "2")],
                    body: nil, nowSeconds: Self.now)) == 400)
    }

    @Test(
        "bearer token: required with allow_remote (401 without or wrong, with WWW-Authenticate); else an alternative to CSRF"
    )
    func bearer() {
        let remote = Self.gate(token: "s3cret-token-0123456789", required: true)
        let host = ("Host", "localhost")
        func post(_ gate: RequestGate, _ headers: [(String, String)], body: String = "") -> RequestGate.Decision {
            gate.decide(
                method: "POST", uri: "/retry-failed", headers: [host] + headers, body: Array(body.utf8),
                nowSeconds: Self.now)
        }
        #expect(post(remote, [("Authorization", "Bearer s3cret-token-0123456789")]) == .proceed(.retryFailed))
        #expect(post(remote, [("authorization", "bearer   s3cret-token-0123456789 ")]) == .proceed(.retryFailed))
        let token = CSRFToken.issue(nowSeconds: Self.now, nonce: "00ff", sign: Self.sign)
        for headers in [
            [], [("Authorization", "Bearer s3cret-token-012345678")],
            [("Authorization", "Bearer s3cret-token-01234567890")],
            [("Authorization", "Basic czNjcmV0")], [("Authorization", "Bearer")],
            [("Authorization", "Bearers3cret-token-0123456789")],
            [("Authorization", "Bearer s3cret-token-0123456789"), ("Authorization", "Bearer s3cret-token-0123456789")],
        ] {
            guard case .refuse(let refusal) = post(remote, headers, body: "csrf=\(token)") else {
                Issue.record("\(headers) was let through")
                continue
            }
            #expect(refusal.status == 401 && refusal.headers.contains { $0.name == "WWW-Authenticate" })
        }
        let local = Self.gate(token: "s3cret-token-0123456789")
        #expect(post(local, [("Authorization", "Bearer s3cret-token-0123456789")]) == .proceed(.retryFailed))
        #expect(Self.status(post(local, [("Authorization", "Bearer nope")], body: "csrf=\(token)")) == 401)
        #expect(post(local, [], body: "csrf=\(token)") == .proceed(.retryFailed), "the page's own form, no bearer")
        // Without a token configured, an Authorization header is not ours to judge: the CSRF token decides.
        #expect(post(Self.gate(), [("Authorization", "Basic abc")], body: "csrf=\(token)") == .proceed(.retryFailed))
        #expect(
            ConstantTime.equal(Array("abc".utf8), Array("abc".utf8))
                && !ConstantTime.equal(Array("abd".utf8), Array("abc".utf8)))
        #expect(
            !ConstantTime.equal([], Array("abc".utf8)) && !ConstantTime.equal(Array("abcd".utf8), Array("abc".utf8)))
    }

    @Test("CSRF: a token per page load, good for its lifetime; an expired, future, altered or foreign one is 403")
    func csrf() {
        let gate = Self.gate()
        func post(_ token: String?, at now: Int64 = RequestGateTests.now, header: Bool = false) -> Int {
            let headers = [("Host", "localhost")] + (header ? token.map { [("X-Imagedrop-CSRF", $0)] } ?? [] : [])
            let body = header ? "" : token.map { "x=1&csrf=\($0)" } ?? ""
            return Self.status(
                gate.decide(
                    method: "POST", uri: "/jobs/3/retry", headers: headers, body: Array(body.utf8), nowSeconds: now))
        }
        let token = CSRFToken.issue(nowSeconds: Self.now, nonce: "0123456789abcdef", sign: Self.sign)
        #expect(token != CSRFToken.issue(nowSeconds: Self.now, nonce: "0123456789abcdee", sign: Self.sign))
        #expect(post(token) == 200 && post(token, header: true) == 200)
        #expect(post(token, at: Self.now + CSRFToken.lifetimeSeconds) == 200)
        #expect(post(token, at: Self.now + CSRFToken.lifetimeSeconds + 1) == 403, "expired")
        #expect(post(token, at: Self.now - CSRFToken.clockSlackSeconds - 1) == 403, "issued in the future")
        #expect(post(nil) == 403)
        var altered = Array(token.utf8)
        altered[altered.count - 1] = altered.last == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        let foreignKey: CSRFToken.Sign = { Self.sign("other key " + $0) }
        for forged in [
            String(decoding: altered, as: UTF8.self), "feedface", "", "..", "1.2.3.4",
            CSRFToken.issue(nowSeconds: Self.now, nonce: "0123456789abcdef", sign: foreignKey),
            "\(Self.now + 1).0123456789abcdef." + token.split(separator: ".").last!,
            token.uppercased(), token + "0", "99999999999999999999." + token.split(separator: ".", maxSplits: 1).last!,
        ] {
            #expect(post(forged) == 403, "\(forged)")
        }
        let daemonKey = CSRFKey(bytes: Array("k".utf8))
        let issued = daemonKey.issue(nowSeconds: Self.now)
        #expect(issued != daemonKey.issue(nowSeconds: Self.now), "two loads in the same second differ")
        #expect(CSRFToken.verify(issued, nowSeconds: Self.now, sign: daemonKey.sign))
        #expect(!CSRFToken.verify(issued, nowSeconds: Self.now, sign: CSRFKey(bytes: Array("j".utf8)).sign))
    }

    @Test(
        "cross-origin POSTs are refused by Origin and Sec-Fetch-Site even with a good token; same-origin and scripts pass"
    )
    func crossOrigin() {
        let gate = Self.gate(allowed: ["status.example.com"])
        let token = CSRFToken.issue(nowSeconds: Self.now, nonce: "ab", sign: Self.sign)
        func post(_ headers: [(String, String)], host: String = "localhost:9731") -> Int {
            Self.status(
                gate.decide(
                    method: "POST", uri: "/retry-failed", headers: [("Host", host)] + headers,
                    body: Array("csrf=\(token)".utf8), nowSeconds: Self.now))
        }
        #expect(post([]) == 200)
        #expect(post([("Origin", "http://localhost:9731"), ("Sec-Fetch-Site", "same-origin")]) == 200)
        #expect(
            post([("Origin", "https://status.example.com")]) == 200, "a proxy's public name keeps the browser's Origin")
        #expect(post([("Sec-Fetch-Site", "none")]) == 200)
        for headers in [
            [("Origin", "http://evil.example")], [("Origin", "null")], [("Origin", "http://localhost:8000")],
            [("Origin", "file://")], [("Origin", "http://localhost:9731/")], [("Sec-Fetch-Site", "cross-site")],
            [("Sec-Fetch-Site", "same-site")], [("Origin", "http://localhost:9731"), ("Sec-Fetch-Site", "cross-site")],
        ] {
            #expect(post(headers) == 403, "\(headers)")
        }
        #expect(
            Self.status(
                Self.gate(actions: false).decide(
                    method: "POST", uri: "/retry-failed", headers: [("Host", "localhost")],
                    body: Array("csrf=\(token)".utf8), nowSeconds: Self.now)) == 403)
    }

    @Test("hostile input never traps: absurd lengths, odd bytes, strange ports, broken IPv6, random garbage")
    func hostileInput() {
        let gate = Self.gate(listen: "::1", allowed: ["a.example", "[::2]:1"], token: "0123456789abcdef")
        let odd = [
            "", ":", "::", ":::", "[", "]", "[]", "[:", "[::1", "[::1]:", "[::1]:-1", "[::1]:65536", "[::1]]",
            "[[::1]]",
            "host:99999999999999999999", "host:00000000000000000080", "127.0.0.1:", "256.256.256.256", "1.2.3.4.5",
            "%00", "\u{0}", "localhost\u{0}:80", "é.example", "🙂", "\r\n", "a\tb",
            String(repeating: "9", count: 100_000),
            String(repeating: ":", count: 10_000), "[" + String(repeating: "f", count: 1_000) + "]", "1.2.3", "....",
        ]
        for value in odd {
            _ = HostAddress.parse(value)
            _ = HostAddress.parseLiteral(value)
            _ = gate.decide(
                method: value, uri: value,
                headers: [
                    (value, value), ("Host", value), ("Origin", "http://" + value),
                    ("Authorization", "Bearer " + value), ("Content-Length", value),
                    ("X-Imagedrop-CSRF", value),
                ],
                body: Array(value.utf8), nowSeconds: Self.now)
            _ = CSRFToken.verify(value, nowSeconds: .max, sign: Self.sign)
            _ = CSRFToken.verify(value, nowSeconds: .min, sign: Self.sign)
            _ = StatusRoute.resolve(method: "POST", path: "/jobs/" + value + "/retry")
            _ = StatusRoute.resolve(method: "GET", path: "/jobs/" + value)
            _ = PageQuery(target: "/?page=" + value + "&q=" + value)
        }
        let alphabet = Array("[]:.%/?#0123456789abcdefABCDEF-_ \t\u{0}é🙂=&xyzhttp".unicodeScalars)
        var generator = SplitMix(seed: 7)
        for _ in 0..<3_000 {
            let length = Int(generator.next() % 40)
            let text = String(
                String.UnicodeScalarView(
                    (0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }))
            _ = gate.decide(
                method: "POST", uri: "/" + text,
                headers: [
                    ("Host", text), ("Origin", text), ("Sec-Fetch-Site", text),
                    ("Authorization", text),
                ],
                body: Array("csrf=\(text)".utf8), isHTTP10: length % 2 == 0, nowSeconds: Self.now)
            _ = HostAddress.parse(text)
        }
        var clock = RequestClock(requestTimeoutNanos: .max, idleTimeoutNanos: .max, openedAt: .max)
        clock.bytesArrived(at: .max)
        clock.responseEnded(at: 0)
        clock.writeFinished(at: 0)
        #expect(clock.expire(at: .max) == .requestTimeout)
    }
}

/// A seeded generator: the hostile inputs are the same on every run.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
