/// Turns bytes into valid UTF-8 text with one U+FFFD for every byte that is not part of a well-formed
/// sequence (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
package enum UTF8Repair {
    package static func replacingEachInvalidByte(_ bytes: [UInt8]) -> String {
        // Nearly every path is valid UTF-8: the standard library's validator says so at once, and the repair (a
        // byte at a time, into a second buffer) is left for the rest. A path is shown several times per upload
        // (its log line, the metadata's source_path).
        String(validating: bytes, as: UTF8.self) ?? repairingEachByte(bytes)
    }

    /// The repair itself, a byte at a time: what `replacingEachInvalidByte` falls back to.
    package static func repairingEachByte(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]
        var index = 0
        while index < bytes.count {
            let length = sequenceLength(bytes, at: index)
            if length == 0 {
                output.append(contentsOf: replacement)
                index += 1
            } else {
                output.append(contentsOf: bytes[index..<(index + length)])
                index += length
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The length of the well-formed sequence starting at `index`, or 0 when the byte there starts none.
    package static func sequenceLength(_ bytes: [UInt8], at index: Int) -> Int {
        let lead = bytes[index]
        func continuation(_ offset: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> Bool {
            index + offset < bytes.count && range.contains(bytes[index + offset])
        }
        switch lead {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: return continuation(1) ? 2 : 0
        case 0xE0: return continuation(1, 0xA0...0xBF) && continuation(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF: return continuation(1) && continuation(2) ? 3 : 0
        case 0xED: return continuation(1, 0x80...0x9F) && continuation(2) ? 3 : 0
        case 0xF0: return continuation(1, 0x90...0xBF) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF1...0xF3: return continuation(1) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF4: return continuation(1, 0x80...0x8F) && continuation(2) && continuation(3) ? 4 : 0
        default: return 0
        }
    }
}
