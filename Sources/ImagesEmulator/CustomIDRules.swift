/// The documented rules for a custom image id: at most 1024 characters, any number of subpaths, UTF-8; not
/// starting or ending with `/`; not a UUID; and (seen in the field) not ending in a non-image file extension.
enum CustomIDRules {
    static let maxLength = 1024

    /// Extensions the field reports as refused with "Must not use a non-image file name extension".
    static let nonImageExtensions: Set<String> = [
        "txt", "html", "htm", "mp4", "mov", "avi", "webm", "mp3", "wav", "pdf", "json", "xml", "js", "css",
        "zip", "gz", "tar", "exe", "bmp", "tif", "tiff", "doc", "docx", "csv",
    ]

    /// nil when the id is acceptable, else the 5411 error naming the broken rule.
    static func violation(of id: String) -> APIError? {
        if id.unicodeScalars.count > maxLength {
            return .invalidCustomID("Must be 1024 characters or less")
        }
        if id.hasPrefix("/") || id.hasSuffix("/") {
            return .invalidCustomID("Must not start or end with a forward slash")
        }
        if looksLikeUUID(id) {
            return .invalidCustomID("Must not be UUID")
        }
        if id.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return .invalidCustomID("Must not contain control characters")
        }
        if let dot = id.lastIndex(of: "."), !id[dot...].contains("/") {
            let ext = id[id.index(after: dot)...].lowercased()
            if nonImageExtensions.contains(ext) {
                return .invalidCustomID("Must not use a non-image file name extension")
            }
        }
        return nil
    }

    /// 32 hex digits, bare or in the 8-4-4-4-12 grouping.
    static func looksLikeUUID(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        func isHex(_ byte: UInt8) -> Bool {
            (0x30...0x39).contains(byte) || (0x41...0x46).contains(byte) || (0x61...0x66).contains(byte)
        }
        if bytes.count == 32 { return bytes.allSatisfy(isHex) }
        guard bytes.count == 36 else { return false }
        for (index, byte) in bytes.enumerated() {
            if [8, 13, 18, 23].contains(index) {
                guard byte == UInt8(ascii: "-") else { return false }
            } else if !isHex(byte) {
                return false
            }
        }
        return true
    }
}
