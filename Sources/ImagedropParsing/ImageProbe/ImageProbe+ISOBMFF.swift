// HEIC and AVIF are ISO BMFF (HEIF) files: an `ftyp` box names the brands, and the image sizes live in
// `ispe` properties under meta → iprp → ipco.

extension ImageProbe {
    private static let avifBrands: Set<String> = ["avif", "avis"]
    private static let heicBrands: Set<String> = ["heic", "heix", "heim", "heis", "hevc", "hevx"]
    /// Generic HEIF brands: the image codec is only known from the other brands; we assume HEVC (HEIC).
    private static let heifBrands: Set<String> = ["mif1", "msf1"]
    /// The meta box of a still image is a few KiB; one with a huge item table is not worth reading.
    package static let metaReadLimit = 256 * 1024

    package static func probeISOBMFF(_ head: [UInt8], _ source: inout ProbeSource) -> ImageInfo? {
        guard let ftypSize = head.be32(0), ftypSize >= 16, ftypSize <= head.count, let major = head.fourCC(8)
        else { return nil }
        var brands = [major]
        for offset in stride(from: 16, to: ftypSize - 3, by: 4) {
            if let brand = head.fourCC(offset) { brands.append(brand) }
        }
        // AVIF first: AVIF files also carry mif1, and some list heic-family brands nowhere.
        let format: ImageFormat
        if brands.contains(where: avifBrands.contains) {
            format = .avif
        } else if brands.contains(where: { heicBrands.contains($0) || heifBrands.contains($0) }) {
            format = .heic
        } else {
            return nil  // MP4, QuickTime, JPEG 2000 and other ISO BMFF files
        }
        var info = ImageInfo(format: format)
        if let (width, height) = largestSpatialExtent(after: ftypSize, &source) {
            info.width = width
            info.height = height
        }
        return info
    }

    /// The largest `ispe`: the primary image (or its grid) is the biggest item; tiles and thumbnails are
    /// smaller. Following pitm/ipma would be exact but is not worth the code for a limit check.
    private static func largestSpatialExtent(after start: Int, _ source: inout ProbeSource) -> (Int, Int)? {
        var position = start
        for _ in 0..<64 {  // top-level boxes before meta: usually none, sometimes one or two
            guard let header = source.bytes(position, 16, allowShort: true), header.count >= 8,
                let (type, headerSize, boxSize) = boxHeader(header, 0, available: source.fileSize - position)
            else { return nil }
            if type == "meta" {
                let contentSize = boxSize - headerSize
                guard contentSize <= metaReadLimit,
                    let meta = source.bytes(position + headerSize, contentSize)
                else { return nil }
                // meta is a FullBox: 4 bytes version/flags before its children (a meta box of size 8 has none).
                guard let content = meta.span(4, meta.count),
                    let iprp = child("iprp", in: meta, content),
                    let ipco = child("ipco", in: meta, iprp)
                else { return nil }
                var best: (Int, Int)?
                for (type, range) in children(in: meta, ipco) where type == "ispe" {
                    guard range.count >= 12, let width = meta.be32(range.lowerBound + 4),
                        let height = meta.be32(range.lowerBound + 8),
                        width > 0, height > 0
                    else { continue }
                    if best.map({ saturatingProduct($0.0, $0.1) < saturatingProduct(width, height) }) ?? true {
                        best = (width, height)
                    }
                }
                return best
            }
            position += boxSize
        }
        return nil
    }

    /// (type, header size, total size) of the box at `offset`; size 0 means "to the end", 1 a 64-bit size.
    private static func boxHeader(_ bytes: [UInt8], _ offset: Int, available: Int) -> (String, Int, Int)? {
        guard let size32 = bytes.be32(offset), let type = bytes.fourCC(offset + 4) else { return nil }
        var headerSize = 8
        var size = size32
        if size32 == 0 {
            size = available
        } else if size32 == 1 {
            guard let high = bytes.be32(offset + 8), let low = bytes.be32(offset + 12), high < 1 << 30 else {
                return nil
            }
            size = high << 32 | low
            headerSize = 16
        }
        guard size >= headerSize, size <= available else { return nil }
        return (type, headerSize, size)
    }

    /// Child boxes' types and content ranges within `range` of an in-memory box; stops at the first bad one.
    private static func children(in bytes: [UInt8], _ range: Range<Int>) -> [(String, Range<Int>)] {
        var result: [(String, Range<Int>)] = []
        var offset = range.lowerBound
        while offset + 8 <= range.upperBound {  // each turn advances by at least 8 bytes
            guard let (type, headerSize, size) = boxHeader(bytes, offset, available: range.upperBound - offset)
            else { break }
            guard let content = bytes.span(offset + headerSize, offset + size) else { break }
            result.append((type, content))
            offset += size
        }
        return result
    }

    private static func child(_ type: String, in bytes: [UInt8], _ range: Range<Int>) -> Range<Int>? {
        children(in: bytes, range).first { $0.0 == type }?.1
    }
}
