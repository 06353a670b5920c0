import ImagedropSupport
import NIOCore

/// Why an upload body was refused while it was still arriving.
enum UploadBodyError: Error, Equatable {
    case tooLarge
    case malformed(String)

    var apiError: APIError {
        switch self {
        case .tooLarge: return .tooLarge
        case .malformed(let reason): return .badRequest("ERROR 5400: Bad request: \(reason)")
        }
    }
}

/// The `file` part as it streamed past: hashed incrementally, probed for format and size, and kept only when
/// the emulator stores bytes.
struct ReceivedFile {
    var filename: String?
    var size = 0
    var sha256 = ""
    var probe = ImageProbe()
    var bytes: ByteBuffer?
}

/// Collects an upload's form while the body arrives: the file part goes through a hasher, text parts are
/// kept (bounded), everything else is dropped.
struct UploadForm {
    private enum Sink {
        case file
        case text(name: String, bytes: [UInt8])
        case ignored
    }

    /// A text part longer than this can only be refused (metadata ≤ 1024 bytes, id ≤ 1024 characters).
    static let maxTextPartBytes = 64 * 1024

    private var parser: MultipartParser
    private var sink = Sink.ignored
    private var events: [MultipartEvent] = []
    private let hasher = SHA256Hasher()
    private let maxFileBytes: Int
    private let storeBytes: Bool

    private(set) var file: ReceivedFile?
    private(set) var fileParts = 0
    private(set) var texts: [(name: String, value: String)] = []
    private(set) var oversizedText: String?
    /// A `url` upload's origin reply, filled in before the form is finished (`HTTPHandler` fetches it).
    var fetched: Result<FetchedImage, APIError>?

    /// The url to fetch: a `url` field and no `file` part (with both, the upload is refused unfetched).
    var urlToFetch: String? {
        guard file == nil, let url = text("url"), !url.isEmpty else { return nil }
        return url
    }

    init(boundary: String, maxFileBytes: Int, storeBytes: Bool) {
        parser = MultipartParser(boundary: boundary)
        self.maxFileBytes = maxFileBytes
        self.storeBytes = storeBytes
    }

    func text(_ name: String) -> String? {
        texts.last(where: { $0.name == name })?.value
    }

    /// `metadata.<key>` parts, as the Python SDK sends an object-valued `metadata`.
    var nestedMetadataParts: [(path: [String], value: String)] {
        texts.compactMap { part in
            guard part.name.hasPrefix("metadata.") || part.name.hasPrefix("metadata[") else { return nil }
            let path = part.name.dropFirst("metadata".count)
                .split(whereSeparator: { $0 == "." || $0 == "[" || $0 == "]" })
                .map(String.init)
            return path.isEmpty ? nil : (path, part.value)
        }
    }

    mutating func feed(_ buffer: ByteBuffer) throws(UploadBodyError) {
        events.removeAll(keepingCapacity: true)
        do {
            try parser.feed(buffer, into: &events)
        } catch {
            throw .malformed(error.reason)
        }
        for event in events {
            try handle(event)
        }
        events.removeAll(keepingCapacity: true)
    }

    mutating func finish() throws(UploadBodyError) {
        do {
            try parser.finish()
        } catch {
            throw .malformed(error.reason)
        }
    }

    private mutating func handle(_ event: MultipartEvent) throws(UploadBodyError) {
        switch event {
        case .partBegin(let headers):
            let name = headers.name ?? ""
            if name == "file" {
                fileParts += 1
                if fileParts == 1 {
                    file = ReceivedFile(filename: headers.filename, bytes: storeBytes ? ByteBuffer() : nil)
                    sink = .file
                } else {
                    sink = .ignored
                }
            } else if !name.isEmpty {
                sink = .text(name: name, bytes: [])
            } else {
                sink = .ignored
            }
        case .partData(let data):
            switch sink {
            case .file:
                guard var received = file else { return }
                file = nil  // keep the buffer uniquely referenced while appending
                received.size += data.readableBytes
                guard received.size <= maxFileBytes else { throw .tooLarge }
                data.withUnsafeReadableBytes { bytes in
                    hasher.update(bytes)
                    received.probe.feed(bytes)
                }
                received.bytes?.writeImmutableBuffer(data)
                file = received
            case .text(let name, var bytes):
                if bytes.count + data.readableBytes > UploadForm.maxTextPartBytes {
                    oversizedText = name
                    sink = .ignored
                } else {
                    sink = .ignored
                    bytes.append(contentsOf: data.readableBytesView)
                    sink = .text(name: name, bytes: bytes)
                }
            case .ignored:
                break
            }
        case .partEnd:
            switch sink {
            case .file:
                file?.sha256 = hasher.finalizeHex()
            case .text(let name, let bytes):
                texts.append((name, String(decoding: bytes, as: UTF8.self)))
            case .ignored:
                break
            }
            sink = .ignored
        }
    }
}
