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

}
