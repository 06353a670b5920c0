/// The routes of the status endpoint, from a method and a request target. Exact paths, no percent-decoding: a
/// target that is not one of these byte for byte is 404.
package enum StatusRoute: Equatable, Sendable {
    case metrics
    case healthz
    case statusJSON
    case page
    /// `GET /jobs/{id}`: one job in full, as `imagedrop show` prints it.
    case job(Int64)
    case retryFailed
    case retryJob(Int64)

    /// Everything but `/healthz` reads the job table; those wait for the one database lane.
    package var readsDatabase: Bool { self != .healthz }

    /// `POST /retry-failed` and `POST /jobs/{id}/retry`: they change the job table and need `[http] actions`
    /// and a credential.
    package var isAction: Bool {
        switch self {
        case .retryFailed, .retryJob: true
        default: false
        }
    }

    /// `.proceed(route)`, or the 404 or 405 refusal.
    package static func resolve(method: String, path: String) -> RequestGate.Decision {
        // Compared as bytes: String's == is canonical equivalence, under which other byte sequences can match.
        let fixed: [(String, StatusRoute)] = [
            ("/metrics", .metrics), ("/healthz", .healthz), ("/status.json", .statusJSON),
            ("/", .page), ("/retry-failed", .retryFailed),
        ]
        let route = fixed.first { path.utf8.elementsEqual($0.0.utf8) }?.1 ?? jobRoute(path)
        guard let route else { return .refuse(RequestGate.Refusal(status: 404, message: "not found")) }
        // A job path with an id that is not a number names no job: 404 whatever the method.
        let wanted = route.isAction ? "POST" : "GET"
        guard method == wanted else { return .refuse(RequestGate.Refusal(status: 405, message: "method not allowed")) }
        return .proceed(route)
    }

    /// `/jobs/{id}` and `/jobs/{id}/retry` with `id` one to 18 digits (any such number fits an Int64, so a
    /// 20-digit id cannot overflow). A job path whose id is not such a number (`-1`, `1x`), or with anything after
    /// it but `/retry`, is nil: 404 like any unknown path.
    private static func jobRoute(_ path: String) -> StatusRoute? {
        let prefix = "/jobs/".utf8
        let suffix = "/retry".utf8
        let bytes = path.utf8
        guard bytes.starts(with: prefix) else { return nil }
        var digits = bytes.dropFirst(prefix.count)
        let retry = digits.count > suffix.count && digits.suffix(suffix.count).elementsEqual(suffix)
        if retry { digits = digits.dropLast(suffix.count) }
        guard (1...18).contains(digits.count), digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        let id = digits.reduce(Int64(0)) { $0 * 10 + Int64($1 - 0x30) }
        return retry ? .retryJob(id) : .job(id)
    }

    /// The path of an origin-form target (`/a?b` → `/a`); nil for anything else (`*`, or an absolute-form
    /// target, which `RequestGate` takes apart first).
    package static func path(ofOriginForm target: String) -> String? {
        guard target.utf8.first == UInt8(ascii: "/") else { return nil }
        let end = target.utf8.firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? target.utf8.endIndex
        return String(decoding: target.utf8[..<end], as: UTF8.self)
    }
}
