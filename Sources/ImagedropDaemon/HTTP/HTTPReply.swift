import ImagedropParsing
/// One answer of the status endpoint: status, headers, body. Built off the event loop, written on it.
public struct HTTPReply: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]
    public var headers: [(String, String)] = []

    public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: String, headers: [(String, String)] = []) {
        self.status = status
        self.contentType = contentType
        self.body = Array(body.utf8)
        self.headers = headers
    }

    package static func text(_ status: Int, _ message: String) -> HTTPReply { HTTPReply(status: status, body: message + "\n") }
}

extension HTTPReply {
    /// The database lane is full, or this request waited past its turn.
    static let busy = HTTPReply(status: 503, body: "busy\n", headers: [("Retry-After", "1")])

    static func refusal(_ refusal: RequestGate.Refusal) -> HTTPReply {
        HTTPReply(status: refusal.status, body: refusal.message + "\n", headers: refusal.headers.map { ($0.name, $0.value) })
    }
}
