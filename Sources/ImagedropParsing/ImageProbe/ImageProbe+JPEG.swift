// JPEG keeps its size in a SOFn segment that may follow large APPn (EXIF, XMP, ICC) segments, so we walk
// the marker chain, seeking over segment bodies instead of reading them.

extension ImageProbe {
    /// Bytes we are willing to read while looking for SOF. Skipped segment bodies are not read, so this only
    /// runs out on files with thousands of segments or long runs of garbage between markers.
    package static let jpegReadBudget = 1 << 20
    /// A hard stop on segments, independent of bytes, so hostile files cannot make us loop for long.
    package static let jpegMaxSegments = 10_000

    package static func probeJPEG(_ source: ProbeSource) -> ImageInfo? {
        var source = source  // a copy: the tighter budget applies to this walk only
        source.budget = min(source.budget, source.bytesRead + jpegReadBudget)
        // Unknown size (not "not an image") when we give up: the signature matched, the server decides.
        let undetermined = ImageInfo(format: .jpeg)
        var position = 2
        for _ in 0..<jpegMaxSegments {
            // Markers are 0xFF followed by a code; extra 0xFF are fill bytes (T.81 B.1.1.2). Like libjpeg we
            // skip stray non-0xFF bytes before a marker rather than give up on the file.
            guard var code = source.byte(at: position) else { return source.budgetExhausted ? undetermined : nil }
            while code != 0xFF {
                position += 1
                guard let next = source.byte(at: position) else { return source.budgetExhausted ? undetermined : nil }
                code = next
            }
            while code == 0xFF {
                position += 1
                guard let next = source.byte(at: position) else { return source.budgetExhausted ? undetermined : nil }
                code = next
            }
            position += 1
            switch code {
            case 0x00:
                continue  // stuffed 0xFF00 belongs to entropy data, not a marker
            case 0x01, 0xD0...0xD8:
                continue  // standalone markers (TEM, RSTn, SOI) carry no length
            case 0xD9, 0xDA:
                return nil  // EOI or start of scan before any frame header: no dimensions, not a usable JPEG
            default:
                break
            }
            guard let high = source.byte(at: position), let low = source.byte(at: position + 1) else {
                return source.budgetExhausted ? undetermined : nil
            }
            let length = Int(high) << 8 | Int(low)
            guard length >= 2 else { return nil }
            // SOF0...SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range.
            if (0xC0...0xCF).contains(code) && code != 0xC4 && code != 0xC8 && code != 0xCC {
                guard length >= 7, let frame = source.bytes(position + 2, 5) else {
                    return source.budgetExhausted ? undetermined : nil
                }
                // precision, height, width; height 0 means "set later by DNL", which we don't chase.
                guard let height = frame.be16(1), let width = frame.be16(3), width > 0 else { return nil }
                return ImageInfo(format: .jpeg, width: width, height: height > 0 ? height : nil)
            }
            position += length
        }
        return undetermined
    }
}
