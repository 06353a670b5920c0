// SVG is text: after an optional BOM, whitespace, XML declaration, comments and doctype, the root element
// must be <svg. Its width/height are taken only when they are plain numbers or px (a viewBox, %, em, mm…
// leave the size unknown: SVGs are stored sanitised and never rasterised by the upload, so it rarely matters).

extension ImageProbe {
    package static func probeSVG(_ head: [UInt8]) -> ImageInfo? {
        var scanner = SVGScanner(bytes: head)
        guard scanner.skipPrologue(), scanner.consume("<svg"),
            let next = scanner.peek, next == UInt8(ascii: ">") || next == UInt8(ascii: "/") || isSpace(next)
        else { return nil }
        let attributes = scanner.attributes()
        return ImageInfo(
            format: .svg, width: attributes["width"].flatMap(pixelLength),
            height: attributes["height"].flatMap(pixelLength))
    }

    /// "640", "640px", " 640.5 " → whole pixels (rounded up); anything else (%, em, empty) → nil.
    package static func pixelLength(_ text: String) -> Int? {
        var digits = Substring(text.trimmingSpaces)
        if digits.hasSuffix("px") { digits = digits.dropLast(2) }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
            let value = Double(digits), value > 0, value < 1e9
        else { return nil }
        return Int(value.rounded(.up))
    }

    package static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        let bytes = Array(utf8)
        guard let first = bytes.firstIndex(where: { !ImageProbe.isSpace($0) }),
            let last = bytes.lastIndex(where: { !ImageProbe.isSpace($0) })
        else { return "" }
        return String(decoding: bytes[first...last], as: UTF8.self)
    }
}

/// A forward-only cursor over the first bytes of the file. Every method advances or stops at the end.
private struct SVGScanner {
    let bytes: [UInt8]
    var index = 0

    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func skipSpaces() {
        while let byte = peek, ImageProbe.isSpace(byte) { index += 1 }
    }

    func starts(with text: String) -> Bool {
        bytes[index...].starts(with: text.utf8)
    }

    mutating func consume(_ text: String) -> Bool {
        guard starts(with: text) else { return false }
        index += text.utf8.count
        return true
    }

    /// Moves past the next occurrence of `terminator`; false when it never comes.
    mutating func skip(past terminator: String) -> Bool {
        let needle = Array(terminator.utf8)
        while index + needle.count <= bytes.count {
            if bytes[index..<index + needle.count].elementsEqual(needle) {
                index += needle.count
                return true
            }
            index += 1
        }
        return false
    }

    /// BOM, whitespace, `<?xml …?>` and other processing instructions, comments, `<!DOCTYPE …>` (with an
    /// internal subset in brackets). False when the text ends first.
    mutating func skipPrologue() -> Bool {
        _ = consume("\u{FEFF}")
        while true {
            skipSpaces()
            if consume("<?") {
                guard skip(past: "?>") else { return false }
            } else if consume("<!--") {
                guard skip(past: "-->") else { return false }
            } else if consume("<!DOCTYPE") || consume("<!doctype") {
                guard skipDoctype() else { return false }
            } else {
                return peek != nil
            }
        }
    }

    private mutating func skipDoctype() -> Bool {
        var quote: UInt8?
        var inSubset = false
        while let byte = peek {
            index += 1
            if let open = quote {
                if byte == open { quote = nil }
            } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                quote = byte
            } else if byte == UInt8(ascii: "[") {
                inSubset = true
            } else if byte == UInt8(ascii: "]") {
                inSubset = false
            } else if byte == UInt8(ascii: ">") && !inSubset {
                return true
            }
        }
        return false
    }

    /// name="value" pairs up to the end of the start tag. Unquoted or malformed attributes end the scan.
    mutating func attributes() -> [String: String] {
        var result: [String: String] = [:]
        while true {
            skipSpaces()
            guard let byte = peek, byte != UInt8(ascii: ">"), byte != UInt8(ascii: "/") else { return result }
            let nameStart = index
            while let byte = peek, !ImageProbe.isSpace(byte), byte != UInt8(ascii: "="), byte != UInt8(ascii: ">"),
                byte != UInt8(ascii: "/")
            {
                index += 1
            }
            let name = String(decoding: bytes[nameStart..<index], as: UTF8.self)
            skipSpaces()
            guard !name.isEmpty, consume("=") else { return result }
            skipSpaces()
            guard let quote = peek, quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") else { return result }
            index += 1
            let valueStart = index
            while let byte = peek, byte != quote { index += 1 }
            guard peek != nil else { return result }
            if result[name] == nil { result[name] = String(decoding: bytes[valueStart..<index], as: UTF8.self) }
            index += 1
        }
    }
}
