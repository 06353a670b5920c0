/// The formats the upload endpoint accepts, recognised by their bytes (the part's Content-Type is not trusted:
/// the SDKs send `application/octet-stream`).
enum ImageFormat: String, Sendable {
    case png, jpeg, gif, webp, svg

    var mimeType: String {
        switch self {
        case .png: return "image/png"
        case .jpeg: return "image/jpeg"
        case .gif: return "image/gif"
        case .webp: return "image/webp"
        case .svg: return "image/svg+xml"
        }
    }
}

struct ImageInfo: Equatable, Sendable {
    let format: ImageFormat
    /// nil for SVG (vector, never resized) and for a JPEG whose frame header was not found before the scan data.
    let width: Int?
    let height: Int?
}

/// Recognises the format and reads the pixel dimensions from the headers while the file part streams past:
/// the first bytes are kept, and a JPEG's segments are walked without buffering them.
struct ImageProbe {
    private static let headLimit = 4096
    private var head: [UInt8] = []
    private var jpeg = JPEGFrameScanner()
    private var scansJPEG: Bool?

    mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        let earlier = head.count
        if head.count < ImageProbe.headLimit {
            head.append(contentsOf: bytes.prefix(ImageProbe.headLimit - head.count))
        }
        if scansJPEG == nil, head.count >= 3 {
            scansJPEG = head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF
            // The bytes seen before the signature was complete still have to go through the scanner.
            if scansJPEG == true { head[0..<earlier].withUnsafeBytes { jpeg.feed($0) } }
            if scansJPEG == true { jpeg.feed(bytes) }
        } else if scansJPEG == true {
            jpeg.feed(bytes)
        }
    }

    func result() -> ImageInfo? {
        let bytes = head
        func be16(_ at: Int) -> Int { Int(bytes[at]) << 8 | Int(bytes[at + 1]) }
        func be32(_ at: Int) -> Int { be16(at) << 16 | be16(at + 2) }
        func le16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func le24(_ at: Int) -> Int { le16(at) | Int(bytes[at + 2]) << 16 }
        func matches(_ prefix: [UInt8], at offset: Int = 0) -> Bool {
            bytes.count >= offset + prefix.count && Array(bytes[offset..<offset + prefix.count]) == prefix
        }

        if matches([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            guard bytes.count >= 24, matches(Array("IHDR".utf8), at: 12) else { return nil }
            return ImageInfo(format: .png, width: be32(16), height: be32(20))
        }
        if matches(Array("GIF87a".utf8)) || matches(Array("GIF89a".utf8)) {
            guard bytes.count >= 10 else { return nil }
            return ImageInfo(format: .gif, width: le16(6), height: le16(8))
        }
        if matches(Array("RIFF".utf8)), matches(Array("WEBP".utf8), at: 8), bytes.count >= 30 {
            if matches(Array("VP8 ".utf8), at: 12) {
                return ImageInfo(format: .webp, width: le16(26) & 0x3FFF, height: le16(28) & 0x3FFF)
            }
            if matches(Array("VP8L".utf8), at: 12) {
                let b1 = Int(bytes[22])
                let b2 = Int(bytes[23])
                let b3 = Int(bytes[24])
                let width = 1 + ((b1 & 0x3F) << 8 | Int(bytes[21]))
                let height = 1 + ((b3 & 0x0F) << 10 | b2 << 2 | (b1 & 0xC0) >> 6)
                return ImageInfo(format: .webp, width: width, height: height)
            }
            if matches(Array("VP8X".utf8), at: 12) {
                return ImageInfo(format: .webp, width: 1 + le24(24), height: 1 + le24(27))
            }
            return nil
        }
        if scansJPEG == true {
            return ImageInfo(format: .jpeg, width: jpeg.width, height: jpeg.height)
        }
        if ImageProbe.looksLikeSVG(bytes) {
            return ImageInfo(format: .svg, width: nil, height: nil)
        }
        return nil
    }

    /// Markup that opens with `<` (after an optional BOM and white space) and has an `<svg` element early on.
    static func looksLikeSVG(_ bytes: [UInt8]) -> Bool {
        var start = 0
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { start = 3 }
        while start < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[start]) { start += 1 }
        guard start < bytes.count, bytes[start] == UInt8(ascii: "<") else { return false }
        let text = String(decoding: bytes[start...], as: UTF8.self).lowercased()
        return text.contains("<svg")
    }
}

/// Walks JPEG marker segments as bytes arrive, until the first SOFn frame header gives the dimensions.
struct JPEGFrameScanner {
    private enum State {
        case signature(Int)
        case marker
        case markerCode
        case lengthHigh(UInt8)
        case lengthLow(UInt8, Int)
        case skip(Int)
        case frame([UInt8], Int)
        case done
    }

    private var state = State.signature(2)
    private(set) var width: Int?
    private(set) var height: Int?

    mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        var index = 0
        while index < bytes.count {
            switch state {
            case .done:
                return
            case .signature(let remaining):
                // SOI (FF D8) has no length field.
                index += 1
                state = remaining > 1 ? .signature(remaining - 1) : .marker
            case .marker:
                guard bytes[index] == 0xFF else {
                    state = .done
                    return
                }
                index += 1
                state = .markerCode
            case .markerCode:
                let code = bytes[index]
                index += 1
                switch code {
                case 0xFF: state = .markerCode  // fill bytes
                case 0x01, 0xD0...0xD7: state = .marker  // standalone markers
                case 0xD9, 0xDA: state = .done  // EOI or start of scan before any frame header
                default: state = .lengthHigh(code)
                }
            case .lengthHigh(let code):
                state = .lengthLow(code, Int(bytes[index]) << 8)
                index += 1
            case .lengthLow(let code, let high):
                let length = high | Int(bytes[index])
                index += 1
                guard length >= 2 else {
                    state = .done
                    return
                }
                let isFrameHeader = (0xC0...0xCF).contains(code) && ![0xC4, 0xC8, 0xCC].contains(code)
                state = isFrameHeader ? .frame([], length - 2) : .skip(length - 2)
            case .skip(let remaining):
                let step = min(remaining, bytes.count - index)
                index += step
                state = remaining - step > 0 ? .skip(remaining - step) : .marker
            case .frame(var collected, let length):
                collected.append(bytes[index])
                index += 1
                if collected.count == 5 {
                    height = Int(collected[1]) << 8 | Int(collected[2])
                    width = Int(collected[3]) << 8 | Int(collected[4])
                    state = .done
                } else if collected.count >= length {
                    state = .done
                } else {
                    state = .frame(collected, length)
                }
            }
        }
    }
}

/// The documented size limits: 12,000 px a side (WebP excepted) and 100 megapixels of area.
enum ImageLimits {
    static let maxSide = 12_000
    static let maxArea = 100_000_000

    static func check(_ info: ImageInfo) -> APIError? {
        guard let width = info.width, let height = info.height else { return nil }
        if width == 0 || height == 0 {
            return .badRequest("ERROR 5400: Bad request: the image has zero width or height")
        }
        if info.format != .webp, max(width, height) > maxSide {
            return .badRequest(
                "ERROR 5400: Bad request: image dimensions \(width)x\(height) exceed the maximum of 12000 pixels a side"
            )
        }
        if width * height > maxArea {
            return .badRequest(
                "ERROR 5400: Bad request: image area \(width)x\(height) exceeds the maximum of 100 megapixels")
        }
        return nil
    }
}
