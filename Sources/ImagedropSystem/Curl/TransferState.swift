import Glibc
import ImagedropParsing
import ImagedropSupport

/// What libcurl's callbacks write into during one transfer: the reply body (bounded), the reply headers,
/// and the request's cancellation. Reached from C through an unretained pointer; CurlEasy keeps it alive.
package final class TransferState {
    package var body: [UInt8] = []
    package var headers: [String: String] = [:]
    package var source: FileBodySource?
    package var fieldsAfterFile: FieldsAfterFileSource?
    private var maxBodyBytes = 0
    private var cancellation = Cancellation.never
    /// Requests libcurl was about to send in this transfer (its pre-request callback).
    private var requestsStarted = 0
    /// Set when a second one was refused: libcurl wanted to resend on a fresh connection by itself.
    package private(set) var refusedResend = false
    /// Set when the reply's body went past `maxBodyBytes` and reading stopped there.
    package private(set) var bodyTruncated = false

    package init() {}

    package static func from(_ pointer: UnsafeMutableRawPointer?) -> TransferState {
        Unmanaged<TransferState>.fromOpaque(pointer!).takeUnretainedValue()
    }

    package func begin(maxBodyBytes: Int, cancellation: Cancellation) {
        self.cancellation = cancellation
        body.removeAll(keepingCapacity: true)
        headers.removeAll(keepingCapacity: true)
        source = nil
        fieldsAfterFile = nil
        self.maxBodyBytes = maxBodyBytes
        requestsStarted = 0
        refusedResend = false
        bodyTruncated = false
    }

    /// libcurl silently sends a request again on a new connection when a reused one closed before any
    /// reply byte — which is also what a server does after storing an upload and losing the connection.
    /// That second request would bypass the rate limiter's grant, the retry policy and, with
    /// Cloudflare-chosen ids, the job-key lookup that prevents a duplicate: one request per transfer.
    package func requestStarting() -> Bool {
        requestsStarted += 1
        if requestsStarted > 1 { refusedResend = true }
        return requestsStarted == 1
    }

    package var readFailure: String? { source?.failure ?? fieldsAfterFile?.failure }

    package var isCancelled: Bool { cancellation.isCancelled }

    package func appendBody(_ data: UnsafeMutablePointer<CChar>?, _ count: Int) -> Int {
        guard let data, count > 0 else { return 0 }
        // A reply larger than any Images API envelope (or than a webhook receiver's answer is worth) is not
        // worth holding: keep what fits, then stop reading (libcurl ends the transfer with CURLE_WRITE_ERROR,
        // which `CurlEasy.perform` reports or, when the caller asked for it, treats as a complete reply).
        let kept = min(count, maxBodyBytes - body.count)
        if kept > 0 {
            data.withMemoryRebound(to: UInt8.self, capacity: kept) {
                body.append(contentsOf: UnsafeBufferPointer(start: $0, count: kept))
            }
        }
        guard kept == count else {
            bodyTruncated = true
            return 0
        }
        return count
    }

    /// One header line as libcurl hands it over; see ReplyHeaderLine for the rules.
    package func appendHeader(_ data: UnsafeMutablePointer<CChar>?, _ count: Int) -> Int {
        guard let data, count > 0 else { return count }
        let bytes = UnsafeRawBufferPointer(start: data, count: count).bindMemory(to: UInt8.self)
        switch ReplyHeaderLine.parse(bytes) {
        case .statusLine:
            headers.removeAll(keepingCapacity: true)
        case .field(let name, let value):
            if headers.count < ReplyHeaderLine.maxFields || headers[name] != nil { headers[name] = value }
        case .other:
            break
        }
        return count
    }
}

/// The `file` part's bytes, read with pread from an open descriptor as libcurl asks for them; with a hasher,
/// hashed as they are read (the one read of a file whose id is its hash).
package final class FileBodySource {
    package let fileDescriptor: Int32
    package let size: Int
    /// The file's bytes as pre-flight read them, when it kept them: copied from here instead of read again.
    private let bytes: [UInt8]?
    package let hasher: SHA256Hasher?
    /// With the digest known up front: the version the descriptor must still show once the last byte was read,
    /// checked right there (before that read's bytes go to libcurl), and that digest. Nil when the parts after the
    /// file check the version themselves (FieldsAfterFileSource).
    private let knownEnd: (version: FileStatus, digest: String)?
    private var offset = 0
    package private(set) var failure: String?

    package init(
        fileDescriptor: Int32, size: Int, bytes: [UInt8]? = nil, hashing: Bool = false,
        knownEnd: (version: FileStatus, digest: String)? = nil
    ) {
        self.fileDescriptor = fileDescriptor
        self.size = size
        self.bytes = bytes?.count == size ? bytes : nil
        self.hasher = hashing ? SHA256Hasher() : nil
        self.knownEnd = knownEnd
    }

    /// Every byte of the measured size was handed to libcurl (and so to the hasher).
    package var isFullyRead: Bool { offset == size }

    /// The digest known up front, once every byte was read and the version found unchanged.
    package var checkedDigest: String? { isFullyRead && failure == nil ? knownEnd?.digest : nil }

    package static func from(_ pointer: UnsafeMutableRawPointer?) -> FileBodySource {
        Unmanaged<FileBodySource>.fromOpaque(pointer!).takeUnretainedValue()
    }

    package func read(into buffer: UnsafeMutablePointer<CChar>?, capacity: Int) -> Int {
        guard let buffer else { return Int(CURL_READFUNC_ABORT_VALUE) }
        if offset >= size { return 0 }
        let wanted = min(capacity, size - offset)
        guard wanted > 0 else {
            // A 0 here would end the part early, and plain parts after it would follow a short file part.
            failure = "file could not be read during upload: libcurl offered no room for its bytes"
            return Int(CURL_READFUNC_ABORT_VALUE)
        }
        let got: Int
        if let bytes {
            bytes.withUnsafeBytes {
                UnsafeMutableRawPointer(buffer).copyMemory(from: $0.baseAddress! + offset, byteCount: wanted)
            }
            got = wanted
        } else {
            do {
                got = try Syscall.pread(fileDescriptor, into: buffer, count: wanted, at: offset)
            } catch {
                failure = "file could not be read during upload: \(error.message)"
                return Int(CURL_READFUNC_ABORT_VALUE)
            }
        }
        if got == 0 {
            // The file shrank after it was measured: what would be sent is not the file that was hashed.
            failure = "file changed during upload (it shrank)"
            return Int(CURL_READFUNC_ABORT_VALUE)
        }
        hasher?.update(UnsafeRawBufferPointer(start: buffer, count: got))
        offset += got
        if offset == size, let knownEnd {
            guard case .success(let now) = FileStatus.of(fileDescriptor: fileDescriptor),
                now.sameVersion(as: knownEnd.version)
            else {
                failure = "file changed during upload"
                return Int(CURL_READFUNC_ABORT_VALUE)
            }
        }
        return got
    }

    /// Only a no-op seek is allowed. libcurl rewinds a body to re-send it by itself when a kept-alive
    /// connection turns out dead after the request went out ("connection died, retrying a fresh connect"):
    /// that hidden second upload cannot be counted or checked first, and with Cloudflare-chosen ids it
    /// stores the image twice (found by the id-mode test). Refusing the rewind makes curl report the
    /// failure instead (CURLE_SEND_FAIL_REWIND), and the retry goes through the policy like any other.
    package func seek(to newOffset: Int, origin: Int32) -> Int32 {
        guard origin == SEEK_SET, newOffset == offset else { return 2 }  // CURL_SEEKFUNC_CANTSEEK
        return 0
    }
}

/// CURL_READFUNC_ABORT is a macro (0x10000000) that Swift does not import.
package let CURL_READFUNC_ABORT_VALUE: Int32 = 0x1000_0000
