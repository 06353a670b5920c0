/// One stored image as the admin log reports it.
public struct StoredImage: Sendable, Codable, Equatable {
    public let id: String
    public let filename: String?
    /// Lowercase hex SHA-256 of the file part's bytes.
    public let sha256: String
    public let size: Int
    /// The image's metadata as compact JSON object text (`{}` when none was sent).
    public let metaJSON: String
    public let creator: String?
    public let requireSignedURLs: Bool
    /// ISO-8601 UTC with milliseconds and `Z`, as the API reports it.
    public let uploaded: String

    public init(
        id: String, filename: String?, sha256: String, size: Int, metaJSON: String, creator: String?,
        requireSignedURLs: Bool, uploaded: String
    ) {
        self.id = id
        self.filename = filename
        self.sha256 = sha256
        self.size = size
        self.metaJSON = metaJSON
        self.creator = creator
        self.requireSignedURLs = requireSignedURLs
        self.uploaded = uploaded
    }
}

/// One API request as the emulator answered it (admin routes are not logged).
public struct LoggedRequest: Sendable, Codable, Equatable {
    public let method: String
    /// The request target's path, still percent-encoded as sent.
    public let path: String
    /// The status sent, or 0 when the connection was closed without a reply.
    public let status: Int
    /// The first Cloudflare error code of the reply, if it was an error.
    public let code: Int?
    public let receivedAtMillis: Int64
    /// The injected fault that shaped this reply: `latency` is not reported; the others are
    /// `server-error`, `rate-limit`, `close-before-reply`, `close-after-store`, `fail-first`, `refuse-tokens`.
    public let fault: String?
    /// SHA-256 of the file part, for uploads that carried one (also when the upload was refused).
    public let fileSHA256: String?
    /// `receivedAtMillis` in microseconds (CLOCK_REALTIME), for the benchmark's close → upload latency.
    public let receivedAtMicros: Int64?
    /// The `Retry-After` header sent with the reply, if any (a checker verifies no request came inside it).
    public let retryAfter: String?

    public init(
        method: String, path: String, status: Int, code: Int?, receivedAtMillis: Int64, fault: String?,
        fileSHA256: String?, receivedAtMicros: Int64? = nil, retryAfter: String? = nil
    ) {
        self.method = method
        self.path = path
        self.status = status
        self.code = code
        self.receivedAtMillis = receivedAtMillis
        self.fault = fault
        self.fileSHA256 = fileSHA256
        self.receivedAtMicros = receivedAtMicros
        self.retryAfter = retryAfter
    }
}
