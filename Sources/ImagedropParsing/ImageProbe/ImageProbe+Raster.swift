// PNG, GIF and WebP: fixed-position headers, plus a cheap frame count for animations (whose limit is the
// sum of all frame areas, per the Cloudflare limits page).

/// Both PNG and GIF cap a side at 2^31 - 1 / 65,535; zero is invalid, so it reads as "unknown".
private func positive(_ value: Int?) -> Int? {
    guard let value, value > 0 else { return nil }
    return value
}

extension ImageProbe {
    package static func probePNG(_ head: [UInt8]) -> ImageInfo? {
        // The first chunk must be IHDR with length 13 (PNG spec §5.6): anything else is corrupt.
        guard head.be32(8) == 13, head.fourCC(12) == "IHDR",
            let width = positive(head.be32(16)), let height = positive(head.be32(20)),
            width <= Int(Int32.max), height <= Int(Int32.max)
        else { return nil }
        return ImageInfo(format: .png, width: width, height: height)
    }

    package static func probeGIF(_ head: [UInt8], _ source: inout ProbeSource) -> ImageInfo? {
        guard let width = head.le16(6), let height = head.le16(8), let flags = head.u8(10) else { return nil }
        var info = ImageInfo(format: .gif, width: positive(width), height: positive(height))
        // Counting frames means stepping over every sub-block, i.e. reading the whole file. That is only
        // worth it for files that could be uploaded at all; bigger ones fail on size regardless.
        if source.fileSize <= ImageLimits.maxBytes, let frames = countGIFFrames(flags: flags, &source),
            frames > 1, let w = info.width, let h = info.height
        {
            // Decoders composite every frame onto the full canvas, and Cloudflare's own example
            // ("500x500 and 10 frames has an image area of 2.5 MP") multiplies the canvas by the frame count.
            info.frameArea = saturatingProduct(saturatingProduct(w, h), frames)
        }
        return info
    }

    /// Image descriptors up to the trailer, or nil when the block structure is broken or cut short.
    private static func countGIFFrames(flags: Int, _ source: inout ProbeSource) -> Int? {
        let chunk = 65_536
        var position = 13
        if flags & 0x80 != 0 { position += 3 << ((flags & 7) + 1) }
        var frames = 0

        func skipSubBlocks(_ position: inout Int, _ source: inout ProbeSource) -> Bool {
            while true {  // advances at least one byte per turn, and stops at EOF
                guard let length = source.byte(at: position, chunk: chunk) else { return false }
                position += 1 + Int(length)
                if length == 0 { return true }
            }
        }

        while true {
            guard let introducer = source.byte(at: position, chunk: chunk) else { return nil }
            switch introducer {
            case 0x3B:
                return frames
            case 0x21:  // extension: label byte, then sub-blocks
                position += 2
                guard skipSubBlocks(&position, &source) else { return nil }
            case 0x2C:  // image descriptor: 9 bytes after the separator, optional local table, LZW size
                guard let packed = source.byte(at: position + 9, chunk: chunk) else { return nil }
                frames += 1
                position += 10
                if packed & 0x80 != 0 { position += 3 << (Int(packed & 7) + 1) }
                position += 1
                guard skipSubBlocks(&position, &source) else { return nil }
            default:
                return nil
            }
        }
    }

    package static func probeWebP(_ head: [UInt8], _ source: inout ProbeSource) -> ImageInfo? {
        switch head.fourCC(12) {
        case "VP8 ":  // lossy: 3-byte frame tag, start code 9D 01 2A, then 14-bit sizes (top 2 bits: scale)
            guard head.count >= 30, head[23] == 0x9D, head[24] == 0x01, head[25] == 0x2A,
                let width = head.le16(26), let height = head.le16(28)
            else { return nil }
            return ImageInfo(format: .webp, width: positive(width & 0x3FFF), height: positive(height & 0x3FFF))
        case "VP8L":  // lossless: signature 0x2F, then 14 bits width-1 and 14 bits height-1
            guard head.u8(20) == 0x2F, let bits = head.le32(21) else { return nil }
            return ImageInfo(format: .webp, width: (bits & 0x3FFF) + 1, height: ((bits >> 14) & 0x3FFF) + 1)
        case "VP8X":  // extended: flags, 3 reserved, 24-bit canvas width-1 and height-1
            guard let flags = head.u8(20), let width = head.le24(24).map({ $0 + 1 }),
                let height = head.le24(27).map({ $0 + 1 })
            else { return nil }
            var info = ImageInfo(format: .webp, width: width, height: height)
            if flags & 0x02 != 0, let frames = countWebPFrames(&source), frames > 1 {
                info.frameArea = saturatingProduct(saturatingProduct(width, height), frames)
            }
            return info
        default:
            return nil
        }
    }

    /// ANMF chunks, found by hopping over chunk headers only (8 bytes each); nil if a chunk runs past EOF.
    private static func countWebPFrames(_ source: inout ProbeSource) -> Int? {
        var position = 12
        var frames = 0
        var header = [UInt8](repeating: 0, count: 8)
        while position + 8 <= source.fileSize {  // each turn advances by at least 8 bytes
            for index in 0..<8 {
                guard let byte = source.byte(at: position + index) else { return nil }
                header[index] = byte
            }
            guard let size = header.le32(4) else { return nil }
            if header.fourCC(0) == "ANMF" { frames += 1 }
            position += 8 + size + (size & 1)
            if position > source.fileSize { return nil }
        }
        return frames
    }
}
