import ImagedropParsing

/// One answer of the status endpoint: status, headers, body. Built off the event loop, written on it.
package struct HTTPReply: Sendable {
    package var status: Int
    package var contentType: String
    package var body: [UInt8]
    package var headers: [(String, String)] = []

    package init(
        status: Int, contentType: String = "text/plain; charset=utf-8", body: String, headers: [(String, String)] = []
    ) {
        self.status = status
        self.contentType = contentType
        self.body = Array(body.utf8)
        self.headers = headers
    }

    package static func text(_ status: Int, _ message: String) -> HTTPReply {
        HTTPReply(status: status, body: message + "\n")
    }
}

extension HTTPReply {
    /// The database lane is full, or this request waited past its turn.
    static let busy = HTTPReply(status: 503, body: "busy\n", headers: [("Retry-After", "1")])

    static func refusal(_ refusal: RequestGate.Refusal) -> HTTPReply {
        HTTPReply(
            status: refusal.status, body: refusal.message + "\n", headers: refusal.headers.map { ($0.name, $0.value) })
    }
}
