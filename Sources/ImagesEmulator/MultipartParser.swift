import Glibc
import NIOCore

/// The headers of one form part that the upload route cares about.
struct MultipartPartHeaders: Equatable, Sendable {
    var name: String?
    var filename: String?
    var contentType: String?
}

enum MultipartEvent {
    case partBegin(MultipartPartHeaders)
    /// Bytes of the current part's body, in order; a slice of the received buffer, not a copy.
    case partData(ByteBuffer)
    case partEnd
}

struct MultipartError: Error, Equatable {
    let reason: String
}

/// A streaming `multipart/form-data` parser (RFC 7578 / RFC 2046) fed with the body buffers as they arrive.
///
/// Part bodies are handed on as slices of the received buffers, so a 10 MB file never sits in the parser. The
/// only bytes held back are the ones that could be the start of a delimiter split across two buffers.
struct MultipartParser {
    private enum State {
        case preamble
        case afterDelimiter
        case headers
        case body
        case epilogue
    }

    /// `CRLF--boundary`. The stream is treated as if it began with CRLF, so a first delimiter at offset 0 matches.
    private let delimiter: [UInt8]
    private var state = State.preamble
    private var pending: ByteBuffer
    /// A part's header block larger than this is refused rather than buffered without bound.
    private let maxHeaderBytes = 16 * 1024

    init(boundary: String) {
        delimiter = Array("\r\n--\(boundary)".utf8)
        pending = ByteBuffer(bytes: [0x0D, 0x0A])
    }

    var isComplete: Bool {
        if case .epilogue = state { return true }
        return false
    }

    /// Parses what `chunk` completes and appends the resulting events to `events`.
    mutating func feed(_ chunk: ByteBuffer, into events: inout [MultipartEvent]) throws(MultipartError) {
        if case .epilogue = state { return }
        if pending.readableBytes == 0 {
            pending = chunk
        } else {
            pending.writeImmutableBuffer(chunk)
        }
        try process(&events)
        if pending.readableBytes == 0 {
            pending.clear()
        }
    }

    /// Called at the end of the body: a form that never reached its closing delimiter is truncated.
    func finish() throws(MultipartError) {
        guard isComplete else { throw MultipartError(reason: "multipart body ended before the closing boundary") }
    }

    private mutating func process(_ events: inout [MultipartEvent]) throws(MultipartError) {
        while true {
            switch state {
            case .preamble, .body:
                let inBody: Bool
                if case .body = state { inBody = true } else { inBody = false }
                if let offset = find(delimiter, in: pending) {
                    if inBody {
                        if offset > 0 { events.append(.partData(pending.readSlice(length: offset)!)) }
                        events.append(.partEnd)
                    } else {
                        pending.moveReaderIndex(forwardBy: offset)
                    }
                    pending.moveReaderIndex(forwardBy: delimiter.count)
                    state = .afterDelimiter
                    continue
                }
                let safe = pending.readableBytes - possibleDelimiterPrefixLength()
                if safe > 0 {
                    let slice = pending.readSlice(length: safe)!
                    if inBody { events.append(.partData(slice)) }
                }
                return
            case .afterDelimiter:
                guard pending.readableBytes >= 2 else { return }
                let first = pending.getInteger(at: pending.readerIndex, as: UInt8.self)!
                let second = pending.getInteger(at: pending.readerIndex + 1, as: UInt8.self)!
                if first == UInt8(ascii: "-"), second == UInt8(ascii: "-") {
                    state = .epilogue
                    pending.moveReaderIndex(to: pending.writerIndex)
                    return
                }
                if first == 0x0D, second == 0x0A {
                    pending.moveReaderIndex(forwardBy: 2)
                    state = .headers
                    continue
                }
                // RFC 2046 allows linear white space ("transport padding") after a delimiter.
                guard first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") else {
                    throw MultipartError(reason: "malformed multipart boundary line")
                }
                pending.moveReaderIndex(forwardBy: 1)
            case .headers:
                if pending.readableBytes >= 2, pending.getInteger(at: pending.readerIndex, as: UInt16.self) == 0x0D0A {
                    pending.moveReaderIndex(forwardBy: 2)
                    events.append(.partBegin(MultipartPartHeaders()))
                    state = .body
                    continue
                }
                guard let end = find(Array("\r\n\r\n".utf8), in: pending) else {
                    if pending.readableBytes > maxHeaderBytes {
                        throw MultipartError(reason: "multipart part headers too large")
                    }
                    return
                }
                let block = pending.readBytes(length: end)!
                pending.moveReaderIndex(forwardBy: 4)
                events.append(.partBegin(try MultipartParser.parseHeaders(block)))
                state = .body
            case .epilogue:
                pending.moveReaderIndex(to: pending.writerIndex)
                return
            }
        }
    }

    /// How many trailing bytes could begin a delimiter that the next buffer completes. Only a suffix starting
    /// with CR can, so in the common case nothing is held back and the next buffer is used without copying.
    private func possibleDelimiterPrefixLength() -> Int {
        let count = pending.readableBytes
        let window = min(count, delimiter.count - 1)
        return pending.withUnsafeReadableBytes { bytes -> Int in
            for start in (count - window)..<count where bytes[start] == 0x0D {
                let length = count - start
                if (0..<length).allSatisfy({ bytes[start + $0] == delimiter[$0] }) { return length }
            }
            return 0
        }
    }

    /// memchr for the needle's first byte, then memcmp: glibc's memchr is vectorised, and a CR inside image
    /// data is rare enough that the comparisons cost little.
    private func find(_ needle: [UInt8], in buffer: ByteBuffer) -> Int? {
        buffer.withUnsafeReadableBytes { haystack -> Int? in
            guard haystack.count >= needle.count, let base = haystack.baseAddress else { return nil }
            return needle.withUnsafeBytes { pattern -> Int? in
                let last = haystack.count - needle.count
                var offset = 0
                while offset <= last {
                    guard let hit = memchr(base + offset, Int32(needle[0]), last - offset + 1) else { return nil }
                    let position = base.distance(to: UnsafeRawPointer(hit))
                    if memcmp(base + position, pattern.baseAddress!, needle.count) == 0 { return position }
                    offset = position + 1
                }
                return nil
            }
        }
    }

    static func parseHeaders(_ block: [UInt8]) throws(MultipartError) -> MultipartPartHeaders {
        // Header values are bytes; browsers and curl send UTF-8 file names raw, so decode leniently.
        let text = String(decoding: block, as: UTF8.self)
        var headers = MultipartPartHeaders()
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: true) {
            guard let colon = line.firstIndex(of: ":") else {
                throw MultipartError(reason: "malformed multipart part header")
            }
            let name = line[..<colon].trimmingSpaces().lowercased()
            let value = line[line.index(after: colon)...].trimmingSpaces()
            switch name {
            case "content-disposition":
                let parameters = HeaderParameters.parse(value)
                headers.name = parameters.value(for: "name")
                headers.filename =
                    parameters.value(for: "filename*").flatMap(HeaderParameters.decodeExtended)
                    ?? parameters.value(for: "filename")
            case "content-type":
                headers.contentType = String(value)
            default:
                break
            }
        }
        return headers
    }
}

/// `type; key=value; key="quoted value"` as used by Content-Type and Content-Disposition.
struct HeaderParameters {
    let type: String
    let pairs: [(String, String)]

    func value(for key: String) -> String? {
        pairs.first(where: { $0.0 == key })?.1
    }

    static func parse(_ text: Substring) -> HeaderParameters {
        var characters = Array(text)
        var index = 0
        func readToken() -> String {
            var token = ""
            while index < characters.count, characters[index] != ";", characters[index] != "=" {
                token.append(characters[index])
                index += 1
            }
            return token.trimmingCharacters()
        }
        let type = readToken().lowercased()
        var pairs: [(String, String)] = []
        while index < characters.count {
            index += 1  // skip ';'
            let key = readToken().lowercased()
            var value = ""
            if index < characters.count, characters[index] == "=" {
                index += 1
                while index < characters.count, characters[index] == " " { index += 1 }
                if index < characters.count, characters[index] == "\"" {
                    index += 1
                    while index < characters.count, characters[index] != "\"" {
                        if characters[index] == "\\", index + 1 < characters.count { index += 1 }
                        value.append(characters[index])
                        index += 1
                    }
                    index += 1
                    while index < characters.count, characters[index] != ";" { index += 1 }
                } else {
                    value = readToken()
                }
            }
            if !key.isEmpty { pairs.append((key, value)) }
        }
        characters.removeAll()
        return HeaderParameters(type: type, pairs: pairs)
    }

    /// RFC 5987 `UTF-8''percent%20encoded`.
    static func decodeExtended(_ value: String) -> String? {
        let parts = value.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        return PercentEncoding.decode(parts[2])
    }
}

extension StringProtocol {
    func trimmingSpaces() -> Substring {
        let trimmed = self.drop(while: { $0 == " " || $0 == "\t" })
        var end = trimmed.endIndex
        while end > trimmed.startIndex, [" ", "\t"].contains(trimmed[trimmed.index(before: end)]) {
            end = trimmed.index(before: end)
        }
        return Substring(trimmed[trimmed.startIndex..<end])
    }

    func trimmingCharacters() -> String { String(trimmingSpaces()) }
}
