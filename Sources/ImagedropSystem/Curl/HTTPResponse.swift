/// One HTTP reply as libcurl delivered it. Header names are lowercased; the last value of a repeated header wins.
package struct HTTPResponse: Sendable {
    package var status: Int
    package var headers: [String: String]
    package var body: [UInt8]
    /// Seconds from the start of the request to its end (curl's CURLINFO_TOTAL_TIME).
    package var totalSeconds: Double = 0
    /// The body was longer than the request's cap and `body` holds its first part only.
    package var bodyTruncated = false
}

/// Where an upload's `file` part comes from: an already-open descriptor, read with pread from offset 0 so
/// that the bytes sent are those of the inode that was hashed and probed, whatever happens to the path.
package struct FileBody: Sendable {
    package var fileDescriptor: Int32
    package var size: Int
    package var filename: String

    package init(fileDescriptor: Int32, size: Int, filename: String) {
        self.fileDescriptor = fileDescriptor
        self.size = size
        self.filename = filename
    }
}

/// A multipart form to POST: text fields in order, then optionally a file.
package struct MultipartForm: Sendable {
    package var fields: [(name: String, value: String)] = []
    package var file: FileBody?
    package init() {}
}
