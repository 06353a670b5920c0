import NIOHTTP1

/// A Cloudflare error: the HTTP status, the `errors[0]` code and message, and an optional `error_chain`
/// (auth errors nest the precise reason there, e.g. 6003 → 6111).
struct APIError: Error, Sendable, Equatable {
    let status: HTTPResponseStatus
    let code: Int
    let message: String
    var chain: [(code: Int, message: String)] = []
    /// Extra `errors[]` entries after the first (7003 is followed by 7000 on routing failures).
    var more: [(code: Int, message: String)] = []
    var headers: [(String, String)] = []

    static func == (lhs: APIError, rhs: APIError) -> Bool {
        lhs.status == rhs.status && lhs.code == rhs.code && lhs.message == rhs.message
    }
}

/// The `{"result":…,"success":…,"errors":[…],"messages":[]}` envelope every API reply uses.
enum Envelope {
    static func success(_ result: JSONValue, resultInfo: JSONValue? = nil) -> String {
        var out = "{\"result\":"
        result.write(to: &out)
        if let resultInfo {
            out += ",\"result_info\":"
            resultInfo.write(to: &out)
        }
        out += ",\"success\":true,\"errors\":[],\"messages\":[]}"
        return out
    }

    static func failure(_ error: APIError) -> String {
        var out = "{\"result\":null,\"success\":false,\"errors\":["
        var entries: [(Int, String, [(code: Int, message: String)])] = [(error.code, error.message, error.chain)]
        entries += error.more.map { ($0.code, $0.message, []) }
        for (index, entry) in entries.enumerated() {
            if index > 0 { out += "," }
            out += "{\"code\":\(entry.0),\"message\":"
            JSONValue.writeString(entry.1, to: &out)
            if !entry.2.isEmpty {
                out += ",\"error_chain\":["
                out += entry.2.map { "{\"code\":\($0.code),\"message\":\(JSONValue.quoted($0.message))}" }
                    .joined(separator: ",")
                out += "]"
            }
            out += "}"
        }
        out += "],\"messages\":[]}"
        return out
    }
}

/// The error catalogue, with the statuses and texts the reference notes give for the real API.
extension APIError {
    static let missingAuth = APIError(
        status: .badRequest, code: 9106, message: "Missing X-Auth-Key, X-Auth-Email or Authorization headers")
    static let malformedAuthorization = APIError(
        status: .badRequest, code: 6003, message: "Invalid request headers",
        chain: [(6111, "Invalid format for Authorization header")])
    static let malformedAuthKey = APIError(
        status: .badRequest, code: 6003, message: "Invalid request headers",
        chain: [(6103, "Invalid format for X-Auth-Key header")])
    static let malformedAuthEmail = APIError(
        status: .badRequest, code: 6003, message: "Invalid request headers",
        chain: [(6102, "Invalid format for X-Auth-Email header")])
    static let authentication = APIError(status: .unauthorized, code: 10000, message: "Authentication error")
    static let unknownGlobalKey = APIError(
        status: .forbidden, code: 9103, message: "Unknown X-Auth-Key or X-Auth-Email")
    static let unauthorizedAccount = APIError(
        status: .forbidden, code: 9109, message: "Unauthorized to access requested resource")
    static let invalidAPIToken = APIError(status: .unauthorized, code: 1000, message: "Invalid API Token")
    static let batchTokenExpired = APIError(status: .unauthorized, code: 10000, message: "Authentication error")

    static func noRoute(_ path: String, status: HTTPResponseStatus = .notFound) -> APIError {
        APIError(
            status: status, code: 7003,
            message: "Could not route to \(path), perhaps your object identifier is invalid?",
            more: [(7000, "No route for that URI")])
    }

    static func methodNotAllowed(_ method: String) -> APIError {
        APIError(status: .methodNotAllowed, code: 10405, message: "Method \(method) not allowed for this route")
    }

    static func rateLimited(retryAfter: Int?) -> APIError {
        APIError(
            status: .tooManyRequests, code: 971, message: "Please wait and consider throttling your request speed",
            headers: retryAfter.map { [("retry-after", String($0))] } ?? [])
    }

    static func badRequest(_ message: String) -> APIError {
        APIError(status: .badRequest, code: 5400, message: message)
    }

    static let notMultipart = APIError(
        status: .unsupportedMediaType, code: 5415,
        message:
            "ERROR 5415: Images must be uploaded as a form, not as raw image data. Please use multipart/form-data format"
    )
    static let fileAndURL = APIError(
        status: .badRequest, code: 5400, message: "ERROR 5400: Bad request: file and url are mutually exclusive")
    static let neitherFileNorURL = APIError(
        status: .badRequest, code: 5400, message: "ERROR 5400: Bad request: one of file or url is required")
    static let tooLarge = APIError(
        status: .payloadTooLarge, code: 5413, message: "ERROR 5413: Maximum image size of 10 MB is reached")
    static let signedCustomID = APIError(
        status: .badRequest, code: 5410,
        message: "ERROR 5410: The image contains a custom ID and cannot be set to private. To make the image private, "
            + "delete and upload the image again using a regular ID.")
    static let duplicateID = APIError(status: .conflict, code: 5409, message: "ERROR 5409: Resource already exists")
    static let notAnImage = APIError(
        status: .unsupportedMediaType, code: 5455,
        message: "ERROR 5455: Uploaded image must have image/jpeg, image/png, image/webp, image/gif or image/svg+xml "
            + "content-type")
    static let imageNotFound = APIError(status: .notFound, code: 5404, message: "ERROR 5404: Image not found")
    /// The account's image quota is full. The message is the one quoted from the field; the HTTP status
    /// Cloudflare sends with it is not documented (the reference notes mark it "?"): 400, as for the other
    /// refusals of an upload request that are not about credentials (5400, 5410, 5411).
    static func quotaReached(_ quota: Int) -> APIError {
        APIError(
            status: .badRequest, code: 5453,
            message:
                "The given account has reached a service limit (\(quota)). Upgrade your plan to increase your service limit."
        )
    }
    /// A `url` upload whose origin object is over the size limit (seen in the field as 7011).
    static let originTooLarge = APIError(status: .payloadTooLarge, code: 7011, message: "Request entity is too large")
    static let urlFetchFailed = APIError(
        status: .badRequest, code: 5454,
        message: "ERROR 5454: Unable to retrieve image from the given url (the emulator does not fetch remote URLs)")

    static func invalidCustomID(_ reason: String) -> APIError {
        APIError(
            status: .badRequest, code: 5411,
            message: "ERROR 5411: The Custom ID is invalid. Custom IDs can include 1024 characters or less, any number "
                + "of subpaths, and support the UTF-8 encoding standard for characters. Enter a new Custom ID and try "
                + "again: \(reason)")
    }

    static func serverError(status: HTTPResponseStatus) -> APIError {
        status == .serviceUnavailable
            ? APIError(status: status, code: 5503, message: "ERROR 5503: Server Unavailable")
            : APIError(status: status, code: 5500, message: "ERROR 5500: Internal Server Error")
    }
}
