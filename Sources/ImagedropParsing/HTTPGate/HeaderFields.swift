/// Header names compared as HTTP compares them: ASCII case-insensitively, byte for byte (Swift's `lowercased()`
/// and `==` are Unicode-aware, and would let other bytes match).
package enum HeaderFields {
    package static func nameIs(_ name: String, _ lowercaseName: String) -> Bool {
        let given = name.utf8
        let wanted = lowercaseName.utf8
        guard given.count == wanted.count else { return false }
        return zip(given, wanted).allSatisfy { lower($0) == $1 }
    }

    /// Every value of the header `lowercaseName`, in order.
    package static func values(_ headers: [(String, String)], _ lowercaseName: String) -> [String] {
        headers.filter { nameIs($0.0, lowercaseName) }.map(\.1)
    }

    /// ASCII letters lowercased, every other byte kept.
    package static func lowercased(_ text: String) -> String {
        String(decoding: text.utf8.map(lower), as: UTF8.self)
    }

    /// Spaces and tabs off both ends (header values as NIO hands them may keep them).
    package static func trimmed(_ text: String) -> String {
        let bytes = Array(text.utf8)
        guard let first = bytes.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }),
            let last = bytes.lastIndex(where: { $0 != 0x20 && $0 != 0x09 })
        else { return "" }
        return String(decoding: bytes[first...last], as: UTF8.self)
    }

    package static func lower(_ byte: UInt8) -> UInt8 { (0x41...0x5A).contains(byte) ? byte + 32 : byte }
}
