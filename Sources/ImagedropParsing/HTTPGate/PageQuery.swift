/// What the status page's query asks for: `?page=N` (which page of the uploads and failures lists) and `?q=TEXT`
/// (only jobs whose path contains TEXT). Total over any target, as `RequestGate` is: anything malformed is
/// ignored (page 1, no search), never an error, and nothing here traps or grows without bound.
package struct PageQuery: Equatable, Sendable {
    /// At most this many pages: with 50 rows a page, deeper than 10,000 pages is no list an operator reads, and
    /// the bound keeps the SQL `OFFSET` a small number.
    package static let maxPage = 10_000
    /// A search longer than this many characters is cut to it (the rest is ignored, not refused).
    package static let maxSearchCharacters = 200
    /// And to this many UTF-8 bytes, at a character: a "character" may be one letter with a thousand combining
    /// marks, so characters alone bound nothing.
    package static let maxSearchBytes = 800

    /// 1-based.
    package var page: Int
    /// nil or non-empty, at most `maxSearchCharacters` characters; bytes that are not UTF-8 are U+FFFD, as in the
    /// `path` column.
    package var search: String?

    package init(page: Int = 1, search: String? = nil) {
        self.page = min(max(page, 1), Self.maxPage)
        self.search = search.flatMap(Self.capped)
    }

    /// nil for an empty search; else its first 200 characters, less whole characters from the end while over 800
    /// bytes. A capped search written into a link reads back as itself (the page's links keep their lists).
    private static func capped(_ search: String) -> String? {
        var text = search.prefix(maxSearchCharacters)
        while text.utf8.count > maxSearchBytes { text.removeLast() }
        return text.isEmpty ? nil : String(text)
    }

    /// From a request target (`/?q=cat&page=2`, or an absolute-form one); the last `page` or `q` given counts.
    package init(target: String) {
        let bytes = target.utf8
        guard let question = bytes.firstIndex(of: UInt8(ascii: "?")) else {
            self.init()
            return
        }
        let end = bytes[question...].firstIndex(of: UInt8(ascii: "#")) ?? bytes.endIndex
        var page = 1
        var search: String?
        for pair in bytes[bytes.index(after: question)..<end].split(separator: UInt8(ascii: "&")) {
            guard let equals = pair.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let key = pair[..<equals]
            let value = pair[pair.index(after: equals)...]
            if key.elementsEqual("page".utf8) {
                page = Self.number(value) ?? 1
            } else if key.elementsEqual("q".utf8) {
                search = Self.formDecoded(value)
            }
        }
        self.init(page: page, search: search)
    }

    /// The query of a link to `page` with the same search (`?page=2&q=cat%2Fa`); empty for page 1 without one.
    package func query(page: Int) -> String {
        var fields: [String] = []
        if page > 1 { fields.append("page=\(min(page, Self.maxPage))") }
        if let search { fields.append("q=" + Self.formEncoded(search)) }
        return fields.isEmpty ? "" : "?" + fields.joined(separator: "&")
    }

    /// One to five digits (no sign, no overflow: anything longer is past `maxPage` anyway, so it is the last page).
    private static func number(_ digits: Substring.UTF8View.SubSequence) -> Int? {
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        let significant = digits.drop { $0 == 0x30 }
        guard significant.count <= 5 else { return maxPage }
        return significant.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    /// `application/x-www-form-urlencoded` as a browser's GET form sends it: `+` is a space, `%XX` a byte; a `%`
    /// not followed by two hex digits stays as it is. Decoding stops at three times the bytes a search may keep
    /// (room for bytes that are not UTF-8, each of which becomes a 3-byte U+FFFD), so a huge value costs nothing.
    private static func formDecoded(_ value: Substring.UTF8View.SubSequence) -> String {
        var out: [UInt8] = []
        var index = value.startIndex
        let cap = maxSearchBytes * 3
        while index < value.endIndex, out.count < cap {
            let byte = value[index]
            if byte == UInt8(ascii: "+") {
                out.append(0x20)
            } else if byte == UInt8(ascii: "%"), let high = value.index(index, offsetBy: 1, limitedBy: value.endIndex),
                let low = value.index(index, offsetBy: 2, limitedBy: value.endIndex), low < value.endIndex,
                let h = hexValue(value[high]), let l = hexValue(value[low])
            {
                out.append(h << 4 | l)
                index = low
            } else {
                out.append(byte)
            }
            index = value.index(after: index)
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    /// Everything but unreserved characters percent-encoded, so the value survives in a link and a query.
    package static func formEncoded(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x2E, 0x5F, 0x7E:  // digits, letters, - . _ ~
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
