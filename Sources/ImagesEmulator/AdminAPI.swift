import ImagedropSupport
import NIOCore
import NIOHTTP1

/// `/__emulator/…`: inspect and steer the emulator from tests and scripts. No auth, no faults, not logged.
///
/// - `GET /__emulator/faults` — the fault configuration
/// - `PUT /__emulator/faults` — merge a (partial) fault configuration (the image quota too: `{"imageQuota": 5}`);
///   restarts the generator from its seed
/// - `GET /__emulator/log` — `{"requests":[…],"images":[…]}`
/// - `POST /__emulator/reset` — forget images, the log, attempt counters and rate-limit windows
/// - `POST /__emulator/seed` — `{"count": N, "idPrefix": "drop/"}`: N images stored at once without uploads, for a
///   benchmark that needs an account of 100,000 (ids `idPrefix` + the 64-hex-digit number 1…N, `meta.sha256` the
///   same digits, `meta.source_path` `seeded/NNNNNNNN.png`); ids already taken are skipped. With `"files": true`
///   the digits are instead the SHA-256 of the bytes a benchmark writes at that `source_path` — the number in
///   decimal and a newline — so `reconcile --fix` can rebuild a ledger of them from an empty one
/// - `DELETE /__emulator/images/{id}` — delete one image (id percent-encoded as one segment) behind the client's
///   back, as the dashboard or another program would: not in the request log, not counted by the rate limit
enum AdminAPI {
    static let prefix = "/__emulator/"
    private static let imagesPrefix = "/__emulator/images/"

    static func bodyLimit(method: HTTPMethod, path: Substring) -> Int? {
        (method == .PUT && path == "/__emulator/faults") || (method == .POST && path == "/__emulator/seed")
            ? 64 * 1024 : nil
    }

    static func handle(method: HTTPMethod, path: Substring, body: [UInt8], core: EmulatorCore) -> Reply {
        switch (method, path) {
        case (.GET, "/__emulator/faults"):
            var reported = faultsJSON(core.faults.configuration)
            if case .object(var pairs) = reported {
                pairs.append(("refuseTokensRemainingMs", .number(String(core.faults.refusalRemainingMs))))
                reported = .object(pairs)
            }
            return json(reported)
        case (.PUT, "/__emulator/faults"):
            switch merge(body, into: core.faults.configuration) {
            case .success(let merged):
                core.faults.set(merged)
                return json(faultsJSON(core.faults.configuration))
            case .failure(let error):
                return json(.object([("error", .string(error.message))]), status: .badRequest)
            }
        case (.GET, "/__emulator/log"):
            let requests = core.log.snapshot().map(requestJSON)
            let images = core.store.all().map { imageJSON($0.stored) }
            return json(.object([("requests", .array(requests)), ("images", .array(images))]))
        case (.POST, "/__emulator/reset"):
            core.reset()
            return json(.object([("ok", .bool(true))]))
        case (.POST, "/__emulator/seed"):
            guard let parsed = try? JSONValue.parse(body), case .object(let pairs) = parsed,
                let count = pairs.first(where: { $0.0 == "count" })?.1.doubleValue, count >= 0, count <= 10_000_000,
                count.rounded() == count
            else {
                return json(
                    .object([("error", .string("body must be {\"count\": N, \"idPrefix\": \"…\"}"))]),
                    status: .badRequest)
            }
            var prefix = ""
            if case .string(let text)? = pairs.first(where: { $0.0 == "idPrefix" })?.1 { prefix = text }
            let files = pairs.first(where: { $0.0 == "files" })?.1 == .bool(true)
            return json(
                .object([("seeded", .number(String(seed(count: Int(count), prefix: prefix, files: files, core: core))))]
                ))
        case (.DELETE, _) where path.hasPrefix(imagesPrefix):
            guard let id = PercentEncoding.decode(path.dropFirst(imagesPrefix.count)), !id.isEmpty else {
                return json(.object([("error", .string("malformed image id"))]), status: .badRequest)
            }
            guard core.store.delete(id) else {
                return json(.object([("error", .string("no image \(id)"))]), status: .notFound)
            }
            return json(.object([("deleted", .string(id))]))
        default:
            return json(.object([("error", .string("no admin route \(method.rawValue) \(path)"))]), status: .notFound)
        }
    }

    /// Stores `count` synthetic images (see the route's line above); returns how many were new.
    private static func seed(count: Int, prefix: String, files: Bool, core: EmulatorCore) -> Int {
        guard count > 0 else { return 0 }
        let now = Timestamp.nowMillis()
        var stored = 0
        for number in 1...count {
            let decimal = String(number)
            let digits = String(number, radix: 16)
            let hex =
                files
                ? SHA256Hasher.hex(of: Array((decimal + "\n").utf8))
                : String(repeating: "0", count: max(0, 64 - digits.count)) + digits
            let path = "seeded/" + String(repeating: "0", count: max(0, 8 - decimal.count)) + decimal + ".png"
            let meta = JSONValue.object([("sha256", .string(hex)), ("source_path", .string(path))])
            let result = core.store.insert(id: prefix + hex) { sequence in
                ImageRecord(
                    id: prefix + hex, filename: nil, sha256: hex, size: 0, meta: meta, creator: nil,
                    requireSignedURLs: false, uploadedMillis: now, isCustomID: true, format: .png, bytes: nil,
                    sequence: sequence)
            }
            if case .success = result { stored += 1 }
        }
        return stored
    }

    private static func json(_ value: JSONValue, status: HTTPResponseStatus = .ok) -> Reply {
        Reply(status: status, body: ByteBuffer(string: value.serialized))
    }

    static func faultsJSON(_ faults: FaultConfiguration) -> JSONValue {
        .object([
            ("seed", .number(String(faults.seed))),
            ("latencyMs", .number(String(faults.latencyMs))),
            ("serverErrorProbability", .number(String(faults.serverErrorProbability))),
            ("rateLimitProbability", .number(String(faults.rateLimitProbability))),
            ("retryAfterSeconds", faults.retryAfterSeconds.map { .number(String($0)) } ?? .null),
            ("retryAfterHeader", faults.retryAfterHeader.map(JSONValue.string) ?? .null),
            ("retryAfterMsHeader", faults.retryAfterMsHeader.map(JSONValue.string) ?? .null),
            ("closeBeforeReplyProbability", .number(String(faults.closeBeforeReplyProbability))),
            ("closeAfterStoreProbability", .number(String(faults.closeAfterStoreProbability))),
            ("failFirstAttempts", .number(String(faults.failFirstAttempts))),
            ("refuseTokens", .bool(faults.refuseTokens)),
            ("cutReplyProbability", .number(String(faults.cutReplyProbability))),
            ("slowReplyProbability", .number(String(faults.slowReplyProbability))),
            ("slowReplyMs", .number(String(faults.slowReplyMs))),
            ("refuseTokensForMs", .number(String(faults.refuseTokensForMs))),
            ("rateLimitRequests", faults.rateLimitRequests.map { .number(String($0)) } ?? .null),
            ("rateLimitWindowMs", faults.rateLimitWindowMs.map { .number(String($0)) } ?? .null),
            ("imageQuota", faults.imageQuota.map { .number(String($0)) } ?? .null),
        ])
    }

    /// Keys present in the body replace the current values (`retryAfterSeconds: null` clears it); absent keys
    /// keep theirs. Unknown keys are refused so a typo does not pass silently.
    static func merge(_ body: [UInt8], into current: FaultConfiguration) -> Result<FaultConfiguration, AdminError> {
        guard let parsed = try? JSONValue.parse(body), case .object(let pairs) = parsed else {
            return .failure(AdminError(message: "the body must be a JSON object"))
        }
        var faults = current
        for (key, value) in pairs {
            func number() -> Double? { value.doubleValue }
            func probability() -> Double? { number().flatMap { (0...1).contains($0) ? $0 : nil } }
            func whole() -> Int? { number().flatMap { $0 >= 0 && $0.rounded() == $0 && $0 < 1e15 ? Int($0) : nil } }
            switch key {
            case "seed":
                // A seed may exceed 2^53, so read the literal, not a Double.
                guard case .number(let text) = value, let seed = UInt64(text) else {
                    return .failure(AdminError(message: "seed must be a non-negative integer"))
                }
                faults.seed = seed
            case "latencyMs":
                guard let ms = whole() else {
                    return .failure(AdminError(message: "latencyMs must be a non-negative integer"))
                }
                faults.latencyMs = ms
            case "serverErrorProbability":
                guard let p = probability() else {
                    return .failure(AdminError(message: "\(key) must be a number from 0 to 1"))
                }
                faults.serverErrorProbability = p
            case "rateLimitProbability":
                guard let p = probability() else {
                    return .failure(AdminError(message: "\(key) must be a number from 0 to 1"))
                }
                faults.rateLimitProbability = p
            case "closeBeforeReplyProbability":
                guard let p = probability() else {
                    return .failure(AdminError(message: "\(key) must be a number from 0 to 1"))
                }
                faults.closeBeforeReplyProbability = p
            case "closeAfterStoreProbability":
                guard let p = probability() else {
                    return .failure(AdminError(message: "\(key) must be a number from 0 to 1"))
                }
                faults.closeAfterStoreProbability = p
            case "retryAfterSeconds":
                if value == .null {
                    faults.retryAfterSeconds = nil
                } else {
                    guard let seconds = whole() else {
                        return .failure(AdminError(message: "retryAfterSeconds must be a non-negative integer or null"))
                    }
                    faults.retryAfterSeconds = seconds
                }
            case "retryAfterHeader", "retryAfterMsHeader":
                let text: String?
                switch value {
                case .null: text = nil
                case .string(let raw):
                    // Any text a server could send, but not one that would split the header line.
                    guard !raw.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) else {
                        return .failure(AdminError(message: "\(key) must not contain CR or LF"))
                    }
                    text = raw
                default: return .failure(AdminError(message: "\(key) must be a string or null"))
                }
                if key == "retryAfterHeader" {
                    faults.retryAfterHeader = text
                } else {
                    faults.retryAfterMsHeader = text
                }
            case "failFirstAttempts":
                guard let count = whole() else {
                    return .failure(AdminError(message: "failFirstAttempts must be a non-negative integer"))
                }
                faults.failFirstAttempts = count
            case "cutReplyProbability":
                guard let p = probability() else {
                    return .failure(AdminError(message: "\(key) must be a number from 0 to 1"))
                }
                faults.cutReplyProbability = p
            case "slowReplyProbability":
                guard let p = probability() else {
                    return .failure(AdminError(message: "\(key) must be a number from 0 to 1"))
                }
                faults.slowReplyProbability = p
            case "slowReplyMs":
                guard let ms = whole() else {
                    return .failure(AdminError(message: "slowReplyMs must be a non-negative integer"))
                }
                faults.slowReplyMs = ms
            case "refuseTokensForMs":
                guard let ms = whole() else {
                    return .failure(AdminError(message: "refuseTokensForMs must be a non-negative integer"))
                }
                faults.refuseTokensForMs = ms
            case "rateLimitRequests", "rateLimitWindowMs", "imageQuota":
                var setting: Int?
                if value != .null {
                    guard let count = whole() else {
                        return .failure(AdminError(message: "\(key) must be a non-negative integer or null"))
                    }
                    setting = count
                }
                switch key {
                case "rateLimitRequests": faults.rateLimitRequests = setting
                case "rateLimitWindowMs": faults.rateLimitWindowMs = setting
                default: faults.imageQuota = setting  // a quota raised (or lowered) at run time, without a restart
                }
            case "refuseTokens":
                guard let flag = value.boolValue else {
                    return .failure(AdminError(message: "refuseTokens must be a boolean"))
                }
                faults.refuseTokens = flag
            default:
                return .failure(AdminError(message: "unknown fault setting '\(key)'"))
            }
        }
        return .success(faults)
    }

    private static func requestJSON(_ request: LoggedRequest) -> JSONValue {
        .object([
            ("method", .string(request.method)),
            ("path", .string(request.path)),
            ("status", .number(String(request.status))),
            ("code", request.code.map { .number(String($0)) } ?? .null),
            ("receivedAtMillis", .number(String(request.receivedAtMillis))),
            ("fault", request.fault.map(JSONValue.string) ?? .null),
            ("fileSHA256", request.fileSHA256.map(JSONValue.string) ?? .null),
            ("receivedAtMicros", request.receivedAtMicros.map { .number(String($0)) } ?? .null),
            ("retryAfter", request.retryAfter.map(JSONValue.string) ?? .null),
        ])
    }

    private static func imageJSON(_ image: StoredImage) -> JSONValue {
        .object([
            ("id", .string(image.id)),
            ("filename", image.filename.map(JSONValue.string) ?? .null),
            ("sha256", .string(image.sha256)),
            ("size", .number(String(image.size))),
            ("metaJSON", .string(image.metaJSON)),
            ("creator", image.creator.map(JSONValue.string) ?? .null),
            ("requireSignedURLs", .bool(image.requireSignedURLs)),
            ("uploaded", .string(image.uploaded)),
        ])
    }
}

struct AdminError: Error {
    let message: String
}
