import ImagedropSupport

/// The fuzz targets: each feeds arbitrary bytes to one parser of untrusted input the way the daemon does, and
/// checks what must hold of its answer. libFuzzer drives them through `Fuzz/Driver` (scripts/fuzz.sh); the
/// unit suite replays the committed corpus (`Fuzz/corpus/<name>/`) through the same entry points, so every
/// crash once found stays a test.
package enum FuzzTarget: String, CaseIterable, Sendable {
    /// Signature detection and every format behind it.
    case imageProbe = "image-probe"
    /// One format each: the input gets the format's signature when it lacks it, so the fuzzer spends its time
    /// inside the format's walker rather than finding the magic bytes.
    case probePNG = "probe-png"
    case probeJPEG = "probe-jpeg"
    case probeGIF = "probe-gif"
    case probeWebP = "probe-webp"
    case probeISOBMFF = "probe-isobmff"
    case probeSVG = "probe-svg"
    /// `retry-after-ms` and `retry-after` (seconds or an HTTP date): two values separated by a NUL byte.
    case retryAfter = "retry-after"
    /// Cloudflare's `Ratelimit` header.
    case rateLimit = "ratelimit"
    /// The API's JSON reply envelope, decoded as each route's result type; the upload reply's direct reading
    /// (`ImageEnvelopeReader`) checked against JSONDecoder's on every input.
    case replyEnvelope = "reply-envelope"
    /// Reply header lines as libcurl hands them over, split at line ends.
    case replyHeaders = "reply-headers"
    /// A `*.urls` file, or `enqueue --urls-from`: validation, redaction and scrubbing of each URL.
    case urlList = "url-list"
    /// What the status endpoint decides about a request (RequestGate: Host rule, head budget, route, bearer and
    /// CSRF tokens, Origin) and the page's `ActionNotice` and `PageQuery` in its target, with the input read as a
    /// raw request: request line, header lines, blank line, body.
    case statusRequest = "status-request"
    /// An existing `*.imagedrop.json` sidecar beside a file: whose job it names.
    case sidecar = "sidecar"
    /// JSON read into a `[String: Any]` graph (the fleet's heartbeat reports from Redis, the config's
    /// `images.metadata`): what is read can be written again, and what is written reads back.
    case json = "json"

    package func run(_ bytes: [UInt8]) {
        switch self {
        case .imageProbe: Self.probe(bytes)
        case .probePNG: Self.probe(Self.prefixed(bytes, with: ImageProbe.pngSignature))
        case .probeJPEG: Self.probe(Self.prefixed(bytes, with: [0xFF, 0xD8, 0xFF]))
        case .probeGIF: Self.probe(Self.prefixed(bytes, with: Array("GIF89a".utf8)))
        case .probeWebP: Self.probe(Self.webP(bytes))
        case .probeISOBMFF: Self.probe(Self.isoBMFF(bytes))
        case .probeSVG: Self.probe(Self.svg(bytes))
        case .retryAfter: Self.retryAfter(bytes)
        case .rateLimit: Self.rateLimit(bytes)
        case .replyEnvelope: Self.replyEnvelope(bytes)
        case .replyHeaders: Self.replyHeaders(bytes)
        case .urlList: Self.urlList(bytes)
        case .statusRequest: Self.statusRequest(bytes)
        case .sidecar: _ = SidecarFile.jobID(bytes)
        case .json: Self.json(bytes)
        }
    }

    private static func probe(_ bytes: [UInt8]) {
        let info = ImageProbe.probe(fileSize: bytes.count) { offset, count in
            precondition(offset >= 0 && count >= 0 && offset + count <= bytes.count, "probe read outside the file")
            return Array(bytes[offset..<offset + count])
        }
        if let info {
            precondition(info.width.map { $0 > 0 } ?? true && info.height.map { $0 > 0 } ?? true, "a size of 0 or less")
            _ = ImageLimits.violation(of: info)
        }
    }

    private static func prefixed(_ bytes: [UInt8], with signature: [UInt8]) -> [UInt8] {
        bytes.starts(with: signature) ? bytes : signature + bytes
    }

    private static func webP(_ bytes: [UInt8]) -> [UInt8] {
        if bytes.count >= 12, bytes[0..<4].elementsEqual("RIFF".utf8), bytes[8..<12].elementsEqual("WEBP".utf8) {
            return bytes
        }
        return Array("RIFF".utf8) + Array(bytes.prefix(4)) + Array("WEBP".utf8) + Array(bytes.dropFirst(4))
    }

    private static func isoBMFF(_ bytes: [UInt8]) -> [UInt8] {
        if bytes.count >= 8, bytes[4..<8].elementsEqual("ftyp".utf8) { return bytes }
        return Array(bytes.prefix(4)) + Array("ftyp".utf8) + Array(bytes.dropFirst(4))
    }

    /// SVG has no signature: the probe tries it last, so anything that is no other format reaches it.
    private static func svg(_ bytes: [UInt8]) -> [UInt8] {
        bytes.first == UInt8(ascii: "<") || bytes.first == 0xEF ? bytes : Array("<svg ".utf8) + bytes
    }

    private static func retryAfter(_ bytes: [UInt8]) {
        let parts = bytes.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
        var headers: [String: String] = [:]
        if let first = parts.first, !first.isEmpty {
            headers["retry-after-ms"] = String(decoding: first, as: UTF8.self)
        }
        if parts.count > 1 { headers["retry-after"] = String(decoding: parts[1], as: UTF8.self) }
        for now: Int64 in [0, 1_764_000_000_000, Int64.max / 2] {
            if let millis = RetryAfter.parse(headers, nowMillis: now) {
                precondition(millis >= 0 && millis <= RetryAfter.ceilingMillis, "a hint outside 0...ceiling")
            }
        }
    }

    private static func rateLimit(_ bytes: [UInt8]) {
        guard let header = RateLimitHeader.parse(String(decoding: bytes, as: UTF8.self)) else { return }
        precondition((0...RateLimitHeader.maxRemaining).contains(header.remaining), "remaining out of bounds")
        precondition((0...RateLimitHeader.maxResetSeconds).contains(header.resetSeconds), "reset out of bounds")
    }

    private struct AnyResult: Decodable {}

    private static func replyEnvelope(_ bytes: [UInt8]) {
        _ = EnvelopeDecoder.decode(AnyResult.self, from: bytes)
        // The server's timestamps are parsed too: a batch token's expiry sets when the next one is fetched.
        if let uploaded = EnvelopeDecoder.decode(ImageRecord.self, from: bytes)?.result?.uploaded {
            _ = Timestamp.parseISO8601(uploaded)
        }
        // The direct reading answers only where its answer is JSONDecoder's.
        if let direct = ImageEnvelopeReader.read(bytes) {
            precondition(
                direct == EnvelopeDecoder.decodeWithJSONDecoder(ImageRecord.self, from: bytes),
                "ImageEnvelopeReader and JSONDecoder disagree")
        }
        _ = EnvelopeDecoder.decode(ImageList.self, from: bytes)
        if let expiresAt = EnvelopeDecoder.decode(BatchTokenResult.self, from: bytes)?.result?.expiresAt {
            _ = Timestamp.parseISO8601(expiresAt)
        }
        if let envelope = EnvelopeDecoder.decode(AnyResult.self, from: bytes), let errors = envelope.errors {
            _ = APIMessage.summary(status: 400, messages: errors)
        }
    }

    private static func replyHeaders(_ bytes: [UInt8]) {
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            if case .field(let name, _) = ReplyHeaderLine.parse(Array(line) + [UInt8(ascii: "\n")]) {
                precondition(!name.isEmpty, "an empty header name")
            }
        }
    }

    private static func json(_ bytes: [UInt8]) {
        guard let value = JSONReader.value(bytes) else { return }
        guard let text = try? JSONWriter.string(value, options: [.sortedKeys]) else {
            preconditionFailure("a value read could not be written")
        }
        precondition(JSONReader.value(Array(text.utf8)) != nil, "written JSON did not read back: \(text)")
    }

    private static func urlList(_ bytes: [UInt8]) {
        guard let text = String(validating: bytes, as: UTF8.self) else { return }
        guard let urls = try? URLList.parse(text) else { return }
        for url in urls {
            precondition(url.text.utf8.count <= URLInput.maxBytes, "a URL over the limit was accepted")
            if let info = URLUserInfo(url.text) {
                // Whatever the user-info held, the shown form has only `***` where its secret was, and the rest as is.
                let shown = URLUserInfo(url.redacted)
                precondition(
                    shown?.secret == "***" && shown?.rest == info.rest, "redaction left the user-info's secret in place"
                )
            }
            _ = url.scrub("could not fetch \(url.text)")
            _ = url.sha256
        }
    }

    private static let gate = RequestGate(
        policy: .init(
            hosts: HostRule(listenHost: "127.0.0.1", allowedHosts: ["images.example.com", "[::1]:9731"]),
            actions: true, bearerToken: Array("0123456789abcdef0123456789abcdef".utf8), bearerRequired: false,
            // Not an HMAC, but deterministic and content-dependent, which is all the checks' paths need here.
            csrfSign: { message in String(repeating: String(message.utf8.count % 16, radix: 16), count: 64) }))

    private static func statusRequest(_ bytes: [UInt8]) {
        var lines = bytes.split(separator: UInt8(ascii: "\n"), maxSplits: 200, omittingEmptySubsequences: false)[...]
        guard let requestLine = lines.popFirst() else { return }
        let parts = requestLine.split(separator: UInt8(ascii: " "), maxSplits: 2)
        let method = parts.first.map { String(decoding: $0, as: UTF8.self) } ?? ""
        let uri = parts.count > 1 ? String(decoding: parts[1], as: UTF8.self) : ""
        let isHTTP10 = parts.count > 2 && parts[2].starts(with: "HTTP/1.0".utf8)
        var headers: [(String, String)] = []
        var body: [UInt8] = []
        while let line = lines.popFirst() {
            let trimmed = line.last == 0x0D ? line.dropLast() : line
            if trimmed.isEmpty {
                body = Array(lines.joined(separator: [UInt8(ascii: "\n")]))
                break
            }
            let colon = trimmed.firstIndex(of: UInt8(ascii: ":")) ?? trimmed.endIndex
            headers.append(
                (
                    String(decoding: trimmed[..<colon], as: UTF8.self),
                    String(decoding: trimmed[colon...].dropFirst(), as: UTF8.self)
                ))
        }
        // The page's action notice comes from the same target: whatever it parses must survive its own round trip.
        if let notice = ActionNotice(target: uri) {
            precondition(ActionNotice(target: notice.location) == notice, "an action notice that does not round-trip")
            _ = notice.text
        }
        // So does the page's paging and search: the links the page writes must lead back to the same lists.
        let query = PageQuery(target: uri)
        precondition(
            PageQuery(target: "/" + query.query(page: query.page)) == query, "a page query that does not round-trip")
        if let search = query.search {
            precondition(
                search.count <= PageQuery.maxSearchCharacters && search.utf8.count <= PageQuery.maxSearchBytes,
                "a search past its cap")
        }
        for now: Int64 in [0, 1_764_000_000] {
            let head = gate.decide(
                method: method, uri: uri, headers: headers, body: nil, isHTTP10: isHTTP10, nowSeconds: now)
            let whole = gate.decide(
                method: method, uri: uri, headers: headers, body: body, isHTTP10: isHTTP10, nowSeconds: now)
            if case .refuse(let refusal) = head {
                precondition((400...599).contains(refusal.status), "a refusal that is no error status")
                precondition(whole == head, "a request refused on its head was let through with its body")
            }
        }
    }
}
