import CCurl
import Glibc

/// The parts that follow the `file` part (`FieldsAfterFile`): libcurl reads the parts in order, so when it asks
/// for the first byte of the first of these, every byte of the file was read (and hashed, unless known). Only then
/// are the values made — and only if the descriptor still shows the version pre-flight measured: otherwise the
/// bytes sent may mix two versions, and the transfer is cut before any id or metadata reaches the server.
/// Used when the digest is computed as the file is sent; with a digest known up front the fields are plain parts and
/// the file part checks the version itself (`CurlEasy.attach`).
package final class FieldsAfterFileSource {
    /// One part's read position; libcurl's callbacks get an unretained pointer to it.
    package final class Part {
        fileprivate unowned let owner: FieldsAfterFileSource
        fileprivate let index: Int
        fileprivate var offset = 0

        fileprivate init(owner: FieldsAfterFileSource, index: Int) {
            self.owner = owner
            self.index = index
        }

        package static func from(_ pointer: UnsafeMutableRawPointer?) -> Part {
            Unmanaged<Part>.fromOpaque(pointer!).takeUnretainedValue()
        }

        package func read(into buffer: UnsafeMutablePointer<CChar>?, capacity: Int) -> Int {
            guard let buffer, let value = owner.resolvedValues()?[index] else { return Int(CURL_READFUNC_ABORT_VALUE) }
            let count = min(capacity, value.count - offset)
            if count <= 0 { return 0 }
            value.withUnsafeBufferPointer {
                UnsafeMutableRawPointer(buffer).copyMemory(from: $0.baseAddress! + offset, byteCount: count)
            }
            offset += count
            return count
        }

        /// As for the file part (FileBodySource.seek): only a no-op seek, never a hidden resend.
        package func seek(to newOffset: Int, origin: Int32) -> Int32 {
            guard origin == SEEK_SET, newOffset == offset else { return 2 }  // CURL_SEEKFUNC_CANTSEEK
            return 0
        }
    }

    private let file: FileBodySource
    private let fields: FieldsAfterFile
    private var values: [[UInt8]]?
    package private(set) var parts: [Part] = []
    /// The SHA-256 of the bytes sent in the file part, once the fields were made from it.
    package private(set) var digest: String?
    package private(set) var failure: String?

    package init(file: FileBodySource, fields: FieldsAfterFile) {
        self.file = file
        self.fields = fields
        parts = fields.names.indices.map { Part(owner: self, index: $0) }
    }

    /// The values, made once from the digest; nil (with `failure` set) when they must not be sent.
    private func resolvedValues() -> [[UInt8]]? {
        if let values { return values }
        if failure != nil { return nil }
        guard file.isFullyRead else {
            failure = "file changed during upload (fewer bytes were sent than measured)"
            return nil
        }
        guard case .success(let now) = FileStatus.of(fileDescriptor: file.fileDescriptor),
            now.sameVersion(as: fields.version)
        else {
            failure = "file changed during upload"
            return nil
        }
        guard let digest = fields.knownDigest ?? file.hasher?.finalizeHex() else {
            failure = "the file part was neither hashed nor measured before"
            return nil
        }
        let made = fields.values(digest).map { Array($0.utf8) }
        // The sizes were declared to libcurl before the first byte: a value of another length would corrupt
        // the body, so it is refused here (a plan whose lengths depend on more than the digest's 64 digits).
        guard made.map(\.count) == fields.sizes else {
            failure = "the fields after the file part came out at another length than declared"
            return nil
        }
        self.digest = digest
        values = made
        return made
    }
}

@available(*, unavailable)
extension FieldsAfterFileSource: Sendable {}
