/// One HTTP reply as libcurl delivered it. Header names are lowercased; the last value of a repeated header wins.
package struct HTTPResponse: Sendable {
    package var status: Int
    package var headers: [String: String]
    package var body: [UInt8]
    /// Seconds from the start of the request to its end (curl's CURLINFO_TOTAL_TIME).
    package var totalSeconds: Double = 0
    /// The body was longer than the request's cap and `body` holds its first part only.
    package var bodyTruncated = false
    /// The SHA-256 (hex) of the `file` part's bytes as they were sent, when the form has fields after the file
    /// (`MultipartForm.fieldsAfterFile`): hashed as they were read, once those fields went out; or the digest known up
    /// front, once every byte of the file was read and found unchanged.
    package var sentFileSHA256: String?
}

/// Where an upload's `file` part comes from: an already-open descriptor, read with pread from offset 0 so
/// that the bytes sent are those of the inode that was hashed and probed, whatever happens to the path; or
/// the bytes pre-flight read from it and hashed, when it kept them (a small file). Either way the descriptor's
/// version is checked as the last byte goes to libcurl, as for a file read now.
package struct FileBody: Sendable {
    package var fileDescriptor: Int32
    package var size: Int
    package var filename: String
    /// The file's `size` bytes, already read: sent from here instead of the descriptor.
    package var bytes: [UInt8]?

    package init(fileDescriptor: Int32, size: Int, filename: String, bytes: [UInt8]? = nil) {
        self.fileDescriptor = fileDescriptor
        self.size = size
        self.filename = filename
        // FileBodySource sends bytes only of the file's size, else reads the descriptor; a mismatch is a wiring bug.
        assert(bytes == nil || bytes?.count == size, "kept bytes of another size than the file's")
        self.bytes = bytes
    }
}

/// A multipart form to POST: text fields in order, then optionally a file, then optionally the fields made
/// from the file's hash.
package struct MultipartForm: Sendable {
    package var fields: [(name: String, value: String)] = []
    package var file: FileBody?
    /// With a file: these fields follow the file part, sent only if the descriptor still shows the version
    /// measured once its last byte was read, filled from the digest (hashed as libcurl reads the bytes unless
    /// `knownDigest`: one read of a large file instead of two).
    package var fieldsAfterFile: FieldsAfterFile?
    package init() {}
}

/// Text fields sent after the `file` part, made from the SHA-256 of the bytes sent in it. Each value's length
/// is fixed before the first byte is read (a hex SHA-256 is always 64 digits), so every part's size is known
/// up front and the body needs no chunked encoding.
package struct FieldsAfterFile: Sendable {
    package var names: [String]
    /// The length in bytes of each value `values` will return, in the order of `names`.
    package var sizes: [Int]
    /// The version the descriptor must still show once the last byte was read. A file written meanwhile may
    /// have sent bytes of two versions: the transfer is then cut before these fields go out, so no image can
    /// be stored from it, and the reason is the transfer's error ("file changed during upload").
    package var version: FileStatus
    /// The values for the digest of the bytes sent (64 lowercase hex digits).
    package var values: @Sendable (_ sha256: String) -> [String]
    /// The digest pre-flight already computed, or nil to hash the bytes as they are sent. Known, the file part
    /// is not hashed again and the fields go as plain parts; they still follow its last byte, and the version
    /// check is made as that byte is read (`FileBodySource`), so a file rewritten during the send never has the id
    /// and metadata of its earlier version stored with bytes of both.
    package var knownDigest: String?

    package init(
        names: [String], sizes: [Int], version: FileStatus, knownDigest: String? = nil,
        values: @escaping @Sendable (_ sha256: String) -> [String]
    ) {
        self.names = names
        self.sizes = sizes
        self.version = version
        self.knownDigest = knownDigest
        self.values = values
    }
}
