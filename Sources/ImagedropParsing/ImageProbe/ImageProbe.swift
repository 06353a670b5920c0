/// Recognises image files by their signature and reads dimensions from the header, without decoding pixels.
/// Pre-flight uses it to fail "not an image" and over-limit files locally, before any request is spent.
/// Every reader here treats the file as hostile: all offsets are bounds-checked, every loop advances, and
/// the bytes read are capped, so a crafted or truncated file costs little and never traps.
package enum ImageFormat: String, Sendable {
    case png, jpeg, gif, webp, svg, heic, avif
}

package struct ImageInfo: Sendable, Equatable {
    package var format: ImageFormat
    /// nil when the header does not say (e.g. SVG without width/height, HEIC without `ispe`).
    package var width: Int?
    package var height: Int?
    /// Sum of all frame areas for animated GIF/WebP when cheaply known, else nil (single frames: nil).
    package var frameArea: Int?

    package init(format: ImageFormat, width: Int? = nil, height: Int? = nil, frameArea: Int? = nil) {
        self.format = format
        self.width = width
        self.height = height
        self.frameArea = frameArea
    }
}

package enum ImageProbe {
    /// `read(offset, count)` returns up to `count` bytes at `offset` (fewer at EOF, nil on I/O error).
    /// Returns nil when the bytes are not an image imagedrop knows — including a known signature whose header
    /// is truncated or malformed (a PNG cut before IHDR would be refused by Cloudflare anyway).
    /// A recognised image whose dimensions lie beyond what we are willing to read comes back with nil sizes:
    /// the server then has the last word.
    package static func probe(fileSize: Int, read: (Int, Int) -> [UInt8]?) -> ImageInfo? {
        guard fileSize > 0 else { return nil }
        return withoutActuallyEscaping(read) { read in
            var source = ProbeSource(fileSize: fileSize, read: read)
            // 64 KiB covers every fixed header and a long SVG prologue (XML declaration, comments, doctype).
            guard let head = source.bytes(0, min(fileSize, 65_536), allowShort: true), !head.isEmpty else {
                return nil
            }
            if head.starts(with: pngSignature) { return probePNG(head) }
            if head.starts(with: [0xFF, 0xD8, 0xFF]) { return probeJPEG(source) }
            if head.starts(with: Array("GIF87a".utf8)) || head.starts(with: Array("GIF89a".utf8)) {
                return probeGIF(head, &source)
            }
            if head.count >= 12, head[0..<4].elementsEqual("RIFF".utf8), head[8..<12].elementsEqual("WEBP".utf8) {
                return probeWebP(head, &source)
            }
            if head.count >= 12, head[4..<8].elementsEqual("ftyp".utf8) { return probeISOBMFF(head, &source) }
            return probeSVG(head)
        }
    }

    package static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
}

/// Bounded access to the caller's `read`: counts every byte requested against a budget and keeps one cached
/// window so that byte-at-a-time walkers (JPEG markers, GIF sub-blocks) don't call `read` per byte.
package struct ProbeSource {
    package let fileSize: Int
    package let read: (Int, Int) -> [UInt8]?
    /// Room for the one walker that reads a whole file (GIF frames, only for files within `maxBytes`) plus
    /// the head and window overlaps; the JPEG walk narrows it to its own budget.
    package var budget = ImageLimits.maxBytes + (1 << 20)
    package private(set) var bytesRead = 0
    package private(set) var budgetExhausted = false
    private var window: [UInt8] = []
    private var windowOffset = 0

    package init(fileSize: Int, read: @escaping (Int, Int) -> [UInt8]?) {
        self.fileSize = fileSize
        self.read = read
    }

    /// Exactly `count` bytes at `offset` (or fewer at EOF when `allowShort`); nil when out of range, on an
    /// I/O error or when the budget is spent.
    package mutating func bytes(_ offset: Int, _ count: Int, allowShort: Bool = false) -> [UInt8]? {
        guard offset >= 0, count >= 0, offset <= fileSize else { return nil }
        let wanted = min(count, fileSize - offset)
        if wanted < count && !allowShort { return nil }
        if wanted == 0 { return [] }
        guard bytesRead + wanted <= budget else {
            budgetExhausted = true
            return nil
        }
        bytesRead += wanted
        guard let got = read(offset, wanted) else { return nil }
        // A reader that returns more than asked is not trusted beyond what we asked for.
        let result = got.count > wanted ? Array(got.prefix(wanted)) : got
        if result.count < count && !allowShort { return nil }
        return result
    }

    /// One byte through the cached window, refilled in `chunk`-sized reads.
    package mutating func byte(at offset: Int, chunk: Int = 4_096) -> UInt8? {
        let index = offset - windowOffset
        if index >= 0 && index < window.count { return window[index] }
        guard let fresh = bytes(offset, chunk, allowShort: true), !fresh.isEmpty else { return nil }
        window = fresh
        windowOffset = offset
        return fresh[0]
    }
}

// Bounds-checked integer readers: nil instead of a trap when the header is short.
extension Array where Element == UInt8 {
    /// `lower..<upper` when it is a range within the array, else nil. Every range a probe builds from header
    /// fields goes through here: `lower..<upper` with lower > upper traps, and a 24-byte HEIC whose meta box
    /// had no room for its version field did exactly that, in a loop, at every restart.
    package func span(_ lower: Int, _ upper: Int) -> Range<Int>? {
        lower >= 0 && lower <= upper && upper <= count ? lower..<upper : nil
    }

    package func u8(_ at: Int) -> Int? { at >= 0 && at < count ? Int(self[at]) : nil }

    package func be16(_ at: Int) -> Int? {
        guard at >= 0, at + 2 <= count else { return nil }
        return Int(self[at]) << 8 | Int(self[at + 1])
    }

    package func be32(_ at: Int) -> Int? {
        guard at >= 0, at + 4 <= count else { return nil }
        return Int(self[at]) << 24 | Int(self[at + 1]) << 16 | Int(self[at + 2]) << 8 | Int(self[at + 3])
    }

    package func le16(_ at: Int) -> Int? {
        guard at >= 0, at + 2 <= count else { return nil }
        return Int(self[at]) | Int(self[at + 1]) << 8
    }

    package func le24(_ at: Int) -> Int? {
        guard at >= 0, at + 3 <= count else { return nil }
        return Int(self[at]) | Int(self[at + 1]) << 8 | Int(self[at + 2]) << 16
    }

    package func le32(_ at: Int) -> Int? {
        guard let low = le16(at), let high = le16(at + 2) else { return nil }
        return low | high << 16
    }

    package func fourCC(_ at: Int) -> String? {
        guard at >= 0, at + 4 <= count else { return nil }
        return String(decoding: self[at..<at + 4], as: UTF8.self)
    }
}

/// Multiplication that saturates instead of trapping: header fields are attacker-controlled.
package func saturatingProduct(_ a: Int, _ b: Int) -> Int {
    let (product, overflow) = a.multipliedReportingOverflow(by: b)
    return overflow ? Int.max : product
}

package func saturatingSum(_ a: Int, _ b: Int) -> Int {
    let (sum, overflow) = a.addingReportingOverflow(b)
    return overflow ? Int.max : sum
}
