import NIOHTTP1

/// Which API operation a request addresses.
enum Route: Equatable, Sendable {
    case upload
    case listV1
    case listV2
    case stats
    case batchToken
    case variants
    case signingKeys
    case verifyToken
    /// GET/PATCH/DELETE one image.
    case image(id: String)
    /// GET the stored bytes. `wholePathID` is the id read with the trailing `blob` segment included: a raw-slash
    /// custom id may itself end in `/blob`, and an existing image under that id wins.
    case imageBlob(id: String, wholePathID: String)
}

/// Who a request is authorised as: an API token against an account (or the user), or a batch token.
enum RouteScope: Equatable, Sendable {
    case account(String)
    case user
    case batch
}

struct RouteMatch: Equatable, Sendable {
    let route: Route
    let scope: RouteScope
}

/// Maps method + path to a route, or to the 7003/7000 "no route" error the real API gives.
enum Router {
    static let apiPrefix = ["client", "v4"]
    /// Names under `images/v1/` that are operations, never image ids.
    static let reservedNames: Set<String> = ["stats", "keys", "variants", "batch_token"]

    static func match(method: HTTPMethod, rawPath: Substring) -> Result<RouteMatch, APIError> {
        var segments = rawPath.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { $0 }
        if segments.count > 1, segments.last?.isEmpty == true { segments.removeLast() }
        let noRoute = APIError.noRoute(String(rawPath))
        if segments.starts(with: apiPrefix.map { Substring($0) }) {
            let rest = Array(segments.dropFirst(2))
            if rest == ["user", "tokens", "verify"], method == .GET {
                return .success(RouteMatch(route: .verifyToken, scope: .user))
            }
            guard rest.count >= 2, rest[0] == "accounts" else { return .failure(noRoute) }
            let account = String(rest[1])
            guard isAccountIdentifier(account) else {
                return .failure(.noRoute(String(rawPath), status: .badRequest))
            }
            if Array(rest.dropFirst(2)) == ["tokens", "verify"], method == .GET {
                return .success(RouteMatch(route: .verifyToken, scope: .account(account)))
            }
            guard rest.count >= 3, rest[2] == "images",
                let route = imagesRoute(method: method, segments: Array(rest.dropFirst(3)), batch: false)
            else { return .failure(noRoute) }
            return .success(RouteMatch(route: route, scope: .account(account)))
        }
        // The batch host (batch.imagedelivery.net) serves the same operations without the account prefix.
        guard segments.first == "images",
            let route = imagesRoute(method: method, segments: Array(segments.dropFirst()), batch: true)
        else { return .failure(noRoute) }
        return .success(RouteMatch(route: route, scope: .batch))
    }

    static func isAccountIdentifier(_ text: String) -> Bool {
        text.utf8.count == 32 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    private static func imagesRoute(method: HTTPMethod, segments: [Substring], batch: Bool) -> Route? {
        guard let version = segments.first else { return nil }
        let rest = Array(segments.dropFirst())
        switch version {
        case "v1":
            guard let first = rest.first else {
                switch method {
                case .POST: return .upload
                case .GET where !batch: return .listV1
                default: return nil
                }
            }
            if !batch, rest.count == 1 {
                switch (first, method) {
                case ("stats", .GET): return .stats
                case ("batch_token", .GET), ("batch_token", .POST): return .batchToken
                case ("variants", .GET): return .variants
                case ("keys", .GET): return .signingKeys
                default: break
                }
            }
            if reservedNames.contains(String(first)) { return nil }
            guard let decoded = decodeID(rest) else { return nil }
            if method == .GET, rest.count >= 2, rest.last == "blob", let id = decodeID(rest.dropLast()) {
                return .imageBlob(id: id, wholePathID: decoded)
            }
            switch method {
            case .GET, .PATCH, .DELETE: return .image(id: decoded)
            default: return nil
            }
        case "v2":
            return rest.isEmpty && method == .GET ? .listV2 : nil
        default:
            return nil
        }
    }

    /// Joins raw segments with `/` after decoding each, so `a/b` and `a%2Fb` name the same image.
    private static func decodeID(_ segments: some Collection<Substring>) -> String? {
        var parts: [String] = []
        for segment in segments {
            guard let part = PercentEncoding.decode(segment) else { return nil }
            parts.append(part)
        }
        let id = parts.joined(separator: "/")
        return id.isEmpty ? nil : id
    }
}
