/// One HTTP reply as libcurl delivered it. Header names are lowercased; the last value of a repeated header wins.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]
    /// Seconds from the start of the request to its end (curl's CURLINFO_TOTAL_TIME).
    public var totalSeconds: Double = 0
    /// The body was longer than the request's cap and `body` holds its first part only.
    public var bodyTruncated = false
}

/// Where an upload's `file` part comes from: an already-open descriptor, read with pread from offset 0 so
/// that the bytes sent are those of the inode that was hashed and probed, whatever happens to the path.
public struct FileBody: Sendable {
    public var fileDescriptor: Int32
    public var size: Int
    public var filename: String

    public init(fileDescriptor: Int32, size: Int, filename: String) {
        self.fileDescriptor = fileDescriptor
        self.size = size
        self.filename = filename
    }
}

/// A multipart form to POST: text fields in order, then optionally a file.
public struct MultipartForm: Sendable {
    public var fields: [(name: String, value: String)] = []
    public var file: FileBody?
    public init() {}
}
