/// The few string operations the daemon took from Foundation's NSString bridge (trimming, percent
/// encoding): that bridge lives in swift-corelibs-foundation, whose link pulls ICU and 40 MB into the
/// static binary. Replacing and finding substrings need none of this: the standard library's `replacing(_:with:)`
/// and `firstRange(of:)` do it.
extension StringProtocol {
    /// Without leading and trailing whitespace (what `trimmingCharacters(in: .whitespaces)` removed: spaces,
    /// tabs and the other Unicode space separators; with `newlines`, line breaks too).
    package func trimmed(newlines: Bool = true) -> String {
        func isTrimmed(_ scalar: Unicode.Scalar) -> Bool {
            if scalar == "\t" || scalar.properties.generalCategory == .spaceSeparator { return true }
            return newlines && (scalar.properties.isWhitespace || scalar == "\u{85}")
        }
        let scalars = String(self).unicodeScalars
        guard let first = scalars.firstIndex(where: { !isTrimmed($0) }),
            let last = scalars.lastIndex(where: { !isTrimmed($0) })
        else { return "" }
        return String(String.UnicodeScalarView(scalars[first...last]))
    }
}

extension String {
    /// The text a C function wrote into `buffer`, up to its first NUL (all of it when there is none).
    package init(nulTerminated buffer: [CChar]) {
        self.init(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

package enum PercentEncoding {
    /// `text` with every byte outside `allowed` (ASCII bytes only) written as `%XX`.
    package static func encode(_ text: String, allowing allowed: (UInt8) -> Bool) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if byte < 0x80, allowed(byte) {
                out.append(byte)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// RFC 3986's unreserved characters: letters, digits and `-._~`.
    package static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default: false
        }
    }

    /// `%XX` sequences decoded; nil when one is malformed or the bytes are not UTF-8 (as Foundation's
    /// `removingPercentEncoding`).
    package static func decode(_ text: String) -> String? {
        var out: [UInt8] = []
        var bytes = text.utf8.makeIterator()
        func value(_ byte: UInt8?) -> UInt8? {
            switch byte {
            case .some(let b) where b >= 0x30 && b <= 0x39: b - 0x30
            case .some(let b) where b >= 0x41 && b <= 0x46: b - 0x37
            case .some(let b) where b >= 0x61 && b <= 0x66: b - 0x57
            default: nil
            }
        }
        while let byte = bytes.next() {
            guard byte == UInt8(ascii: "%") else {
                out.append(byte)
                continue
            }
            guard let high = value(bytes.next()), let low = value(bytes.next()) else { return nil }
            out.append(high << 4 | low)
        }
        return String(validating: out, as: UTF8.self)
    }
}

extension StringProtocol {
    /// The first place `needle` (ASCII) occurs, ignoring ASCII case (what `range(of:options: .caseInsensitive)`
    /// was used for: finding `Bearer ` in a text).
    package func asciiCaseInsensitiveRange(of needle: String) -> Range<Index>? {
        // Native strings: a scan of their bytes, no index arithmetic per byte (each log value passes here).
        var contiguous: Range<Int>?? = nil
        _ = utf8.withContiguousStorageIfAvailable { haystack in
            _ = needle.utf8.withContiguousStorageIfAvailable { target in
                contiguous = .some(asciiCaseInsensitiveSearch(target, in: haystack))
            }
        }
        if let found = contiguous {
            guard let found else { return nil }
            return utf8.index(
                startIndex, offsetBy: found.lowerBound)..<utf8.index(startIndex, offsetBy: found.upperBound)
        }
        let target = Array(needle.utf8.map { $0 | (($0 >= 0x41 && $0 <= 0x5A) ? 0x20 : 0) })
        guard !target.isEmpty else { return nil }
        var start = utf8.startIndex
        while start != utf8.endIndex {
            var probe = start
            var matched = 0
            while matched < target.count, probe != utf8.endIndex {
                let byte = utf8[probe]
                let lowered = (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
                guard lowered == target[matched] else { break }
                matched += 1
                probe = utf8.index(after: probe)
            }
            if matched == target.count { return start..<probe }
            start = utf8.index(after: start)
        }
        return nil
    }
}

private func asciiCaseInsensitiveSearch(
    _ target: UnsafeBufferPointer<UInt8>, in haystack: UnsafeBufferPointer<UInt8>
) -> Range<Int>? {
    guard !target.isEmpty, target.count <= haystack.count else { return nil }
    func lowered(_ byte: UInt8) -> UInt8 { (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte }
    let first = lowered(target[0])
    for start in 0...(haystack.count - target.count) where lowered(haystack[start]) == first {
        var matched = 1
        while matched < target.count, lowered(haystack[start + matched]) == lowered(target[matched]) { matched += 1 }
        if matched == target.count { return start..<(start + matched) }
    }
    return nil
}
