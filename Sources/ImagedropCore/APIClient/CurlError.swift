import CCurl

/// A libcurl failure: the CURLcode, curl's own text for it, and the detail from the error buffer.
public struct CurlError: Error, CustomStringConvertible, Sendable {
    public let code: Int
    public let message: String

    init(_ code: CURLcode, detail: String = "") {
        self.code = Int(code.rawValue)
        let text = String(cString: curl_easy_strerror(code))
        self.message = detail.isEmpty ? text : "\(text): \(detail)"
    }

    public var description: String { "curl error \(code): \(message)" }

    /// Timeouts and connection failures: the request may or may not have reached the API.
    public var isTimeout: Bool { code == Int(CURLE_OPERATION_TIMEDOUT.rawValue) }
    public var isAbortedByCallback: Bool { code == Int(CURLE_ABORTED_BY_CALLBACK.rawValue) }
    /// curl stopped because our read callback said the file ended early or could not be read.
    public var isReadError: Bool { code == Int(CURLE_READ_ERROR.rawValue) }
}
