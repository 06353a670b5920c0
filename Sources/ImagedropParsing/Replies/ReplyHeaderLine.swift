/// One header line of an API reply as libcurl hands it over (CRLF included), parsed on the bytes: Foundation's
/// trimming per line was a visible share of an upload's CPU. The server, and any proxy in between, writes these.
package enum ReplyHeaderLine: Equatable {
    /// `HTTP/1.1 100 Continue`, then the final status line: the headers that follow belong to the last reply.
    case statusLine
    /// Name lowercased, value trimmed of spaces, tabs and the line end.
    case field(name: String, value: String)
    /// A blank line, an obs-fold continuation or a line without a colon: nothing to keep.
    case other

    /// At most this many distinct names are kept per reply: a hostile server's header flood costs bounded memory.
    package static let maxFields = 128

    package static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> ReplyHeaderLine {
        if bytes.starts(with: "HTTP/".utf8) { return .statusLine }
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon > bytes.startIndex else { return .other }
        let name = trimmed(bytes[..<colon])
        guard !name.isEmpty, name.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return .other }
        let value = trimmed(bytes[(colon + 1)...])
        return .field(
            name: String(decoding: name, as: UTF8.self).lowercased(), value: String(decoding: value, as: UTF8.self))
    }

    package static func parse(_ bytes: [UInt8]) -> ReplyHeaderLine {
        bytes.withUnsafeBufferPointer { parse($0) }
    }

    private static func trimmed(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Slice<UnsafeBufferPointer<UInt8>> {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        return bytes[start..<end]
    }
}
