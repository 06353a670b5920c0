import ImagedropParsing
import ImagedropSupport
import ImagedropTestSupport
import Testing

/// Probes an in-memory file; `bytesRead` totals what the probe asked for, to check it seeks instead of reads.
private func probe(_ bytes: [UInt8], bytesRead: UnsafeMutablePointer<Int>? = nil) -> ImageInfo? {
    ImageProbe.probe(fileSize: bytes.count) { offset, count in
        guard offset >= 0, count >= 0, offset <= bytes.count else { return nil }
        let end = min(bytes.count, offset + count)
        bytesRead?.pointee += end - offset
        return Array(bytes[offset..<end])
    }
}

private func probeCountingReads(_ bytes: [UInt8]) -> (ImageInfo?, Int) {
    var total = 0
    let info = withUnsafeMutablePointer(to: &total) { probe(bytes, bytesRead: $0) }
    return (info, total)
}

private func le32(_ value: Int) -> [UInt8] {
    [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24 & 0xFF)]
}

private func be32(_ value: Int) -> [UInt8] { le32(value).reversed() }

private func box(_ type: String, _ content: [UInt8]) -> [UInt8] { be32(8 + content.count) + Array(type.utf8) + content }

private func riff(_ chunks: [UInt8]) -> [UInt8] {
    Array("RIFF".utf8) + le32(4 + chunks.count) + Array("WEBP".utf8) + chunks
}

private func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
    Array(type.utf8) + le32(data.count) + data + (data.count % 2 == 1 ? [0] : [])
}

private func svg(_ text: String) -> ImageInfo? { probe(Array(text.utf8)) }

@Suite struct ImageProbeTests {
    // MARK: PNG

    @Test("A generated PNG reports its format and dimensions")
    func pngDimensions() {
        #expect(probe(SampleImages.png(width: 37, height: 5)) == ImageInfo(format: .png, width: 37, height: 5))
        #expect(
            probe(SampleImages.pngHeaderOnly(width: 13_000, height: 800))
                == ImageInfo(format: .png, width: 13_000, height: 800))
    }

    @Test("A PNG cut before the end of IHDR is not an image")
    func pngTruncated() {
        let header = SampleImages.pngHeaderOnly(width: 10, height: 10)
        for length in 0..<24 { #expect(probe(Array(header.prefix(length))) == nil) }
        #expect(probe(Array(header.prefix(24))) == ImageInfo(format: .png, width: 10, height: 10))
    }

    @Test("A PNG whose first chunk is not IHDR, or has a zero side, is not an image")
    func pngMalformed() {
        var wrongChunk = SampleImages.pngHeaderOnly(width: 10, height: 10)
        wrongChunk[12] = UInt8(ascii: "X")
        #expect(probe(wrongChunk) == nil)
        #expect(probe(SampleImages.pngHeaderOnly(width: 0, height: 10)) == nil)
    }

    // MARK: JPEG

    @Test("A JPEG reports the size from its SOF0 segment")
    func jpegDimensions() {
        #expect(
            probe(SampleImages.jpegHeaderOnly(width: 4032, height: 3024))
                == ImageInfo(format: .jpeg, width: 4032, height: 3024))
    }

    @Test("A JPEG with a 70 KB EXIF block before SOF is measured by seeking, not reading the block")
    func jpegLargeExif() {
        let file = SampleImages.jpegHeaderOnly(width: 640, height: 480, exifPadding: 70_000)
        #expect(file.count > 70_000)
        let (info, bytesRead) = probeCountingReads(file)
        #expect(info == ImageInfo(format: .jpeg, width: 640, height: 480))
        // The 64 KiB head read plus a few small windows; far from the whole file's repeated reads.
        #expect(bytesRead < 65_536 + 3 * 4_096)
    }

    @Test("Fill bytes, standalone markers, DHT/DAC/JPG segments and progressive SOF2 are walked correctly")
    func jpegMarkerZoo() {
        var file: [UInt8] = [0xFF, 0xD8]
        file += [0xFF, 0xFF, 0xFF, 0xE0, 0x00, 0x06, 0x4A, 0x46, 0x49, 0x46]  // fill bytes, then APP0
        file += [0xFF, 0xD0, 0xFF, 0x01]  // RST0 and TEM carry no length
        // DHT, JPG and DAC lie in the SOF range; their bytes must not be taken for dimensions.
        for code: UInt8 in [0xC4, 0xC8, 0xCC] { file += [0xFF, code, 0x00, 0x07, 8, 0x11, 0x11, 0x22, 0x22] }
        file += [0xFF, 0xC2, 0x00, 0x0B, 8, 0x01, 0x2C, 0x01, 0x90, 1, 1, 0x11, 0]  // SOF2: 400 × 300
        file += [0xFF, 0xD9]
        #expect(probe(file) == ImageInfo(format: .jpeg, width: 400, height: 300))
    }

    @Test("A JPEG that ends or starts its scan before any SOF is not an image")
    func jpegWithoutFrame() {
        let full = SampleImages.jpegHeaderOnly(width: 64, height: 64, exifPadding: 100)
        let sofOffset = 2 + 4 + 100
        for length in 3..<sofOffset + 9 { #expect(probe(Array(full.prefix(length))) == nil) }
        #expect(probe([0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0xFF, 0xD9]) == nil)
        #expect(probe([0xFF, 0xD8, 0xFF, 0xD9]) == nil)
    }

    @Test("A JPEG full of junk between markers is given up on within the read budget")
    func jpegReadBudget() {
        let file: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0, 0] + [UInt8](repeating: 0x00, count: 3 << 20)
        let (info, bytesRead) = probeCountingReads(file)
        #expect(info == ImageInfo(format: .jpeg))  // a JPEG by signature, size unknown: the server decides
        #expect(bytesRead <= (1 << 20) + 65_536 + 4_096)
    }

    // MARK: GIF

    @Test("A GIF reports its logical screen size and no frame area for a single frame")
    func gifDimensions() {
        #expect(probe(SampleImages.gif(width: 300, height: 200)) == ImageInfo(format: .gif, width: 300, height: 200))
        #expect(
            probe(Array("GIF87a".utf8) + [0x10, 0, 0x20, 0, 0, 0, 0, 0x3B])
                == ImageInfo(format: .gif, width: 16, height: 32))
        #expect(probe(Array("GIF89a".utf8) + [0x10, 0]) == nil)
    }

    @Test("An animated GIF's frame area is the canvas times the frame count")
    func gifFrameArea() {
        let single = SampleImages.gif(width: 500, height: 500)
        let frame = Array(single[(13 + 6)..<(single.count - 1)])  // after the colour table, before the trailer
        var animated = Array(single.dropLast())
        for _ in 0..<9 { animated += frame }
        animated.append(0x3B)
        #expect(probe(animated) == ImageInfo(format: .gif, width: 500, height: 500, frameArea: 2_500_000))
        // Cut short: dimensions still known, frame count not.
        #expect(probe(Array(animated.dropLast(10))) == ImageInfo(format: .gif, width: 500, height: 500))
    }

    // MARK: WebP

    @Test("WebP sizes come from VP8X, VP8 and VP8L headers")
    func webpDimensions() {
        #expect(
            probe(SampleImages.webpHeaderOnly(width: 16_383, height: 20_000))
                == ImageInfo(format: .webp, width: 16_383, height: 20_000))
        let lossy = riff(chunk("VP8 ", [0x30, 0x01, 0x00, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0xE0, 0x01]))
        #expect(probe(lossy) == ImageInfo(format: .webp, width: 640, height: 480))
        let bits = (640 - 1) | (480 - 1) << 14
        let lossless = riff(chunk("VP8L", [0x2F] + le32(bits)))
        #expect(probe(lossless) == ImageInfo(format: .webp, width: 640, height: 480))
        #expect(probe(riff(chunk("VP8 ", [0, 0, 0, 1, 2, 3, 0, 0, 0, 0]))) == nil)  // bad start code
    }

    @Test("An animated WebP's frame area counts its ANMF chunks")
    func webpFrameArea() {
        let vp8x = chunk("VP8X", [0x02, 0, 0, 0] + [99, 0, 0] + [49, 0, 0])  // animated, 100 × 50
        let frames = (0..<3).flatMap { _ in chunk("ANMF", [UInt8](repeating: 0, count: 17)) }
        let file = riff(vp8x + chunk("ANIM", [0, 0, 0, 0, 0, 0]) + frames)
        #expect(probe(file) == ImageInfo(format: .webp, width: 100, height: 50, frameArea: 15_000))
    }

    // MARK: SVG

    @Test("An SVG with numeric or px width and height reports them")
    func svgWithDimensions() {
        #expect(
            svg(#"<svg xmlns="http://www.w3.org/2000/svg" width="120" height='80px'></svg>"#)
                == ImageInfo(format: .svg, width: 120, height: 80))
        let prologue =
            "\u{FEFF}  <?xml version=\"1.0\"?>\n<!-- made by hand -->\n"
            + "<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"x.dtd\" [ <!ENTITY e \"<>\"> ]>\n"
        #expect(
            svg(prologue + "<svg\n  width = \"10.5\" height=\"20\"/>")
                == ImageInfo(format: .svg, width: 11, height: 20))
    }

    @Test("An SVG sized by viewBox, percent or em has unknown dimensions")
    func svgWithoutDimensions() {
        #expect(svg(#"<svg viewBox="0 0 10 10"><rect/></svg>"#) == ImageInfo(format: .svg))
        #expect(svg(#"<svg width="100%" height="2em">"#) == ImageInfo(format: .svg))
        #expect(svg("<svg>") == ImageInfo(format: .svg))
    }

    @Test("Text that is not an SVG root is not an image")
    func notSVG() {
        #expect(svg("<html><svg width=\"1\" height=\"1\"/></html>") == nil)
        #expect(svg("<svgfoo/>") == nil)
        #expect(svg("<!-- never closed <svg>") == nil)
        #expect(svg("   ") == nil)
    }

    // MARK: HEIC / AVIF

    @Test("HEIC takes the largest ispe; AVIF and generic HEIF brands are recognised")
    func heifFamily() {
        let ftyp = box("ftyp", Array("heic".utf8) + [0, 0, 0, 0] + Array("mif1heic".utf8))
        let ispe = { (w: Int, h: Int) in box("ispe", [0, 0, 0, 0] + be32(w) + be32(h)) }
        let ipco = box("ipco", ispe(512, 512) + ispe(4032, 3024) + ispe(320, 240))
        let meta = box("meta", [0, 0, 0, 0] + box("hdlr", [UInt8](repeating: 0, count: 24)) + box("iprp", ipco))
        #expect(probe(ftyp + meta) == ImageInfo(format: .heic, width: 4032, height: 3024))
        #expect(probe(ftyp + box("mdat", [1, 2, 3])) == ImageInfo(format: .heic))

        let avif = box("ftyp", Array("avif".utf8) + [0, 0, 0, 0] + Array("mif1miaf".utf8))
        #expect(probe(avif + meta) == ImageInfo(format: .avif, width: 4032, height: 3024))
        let generic = box("ftyp", Array("mif1".utf8) + [0, 0, 0, 0] + Array("mif1avif".utf8))
        #expect(probe(generic)?.format == .avif)
        #expect(probe(box("ftyp", Array("isom".utf8) + [0, 0, 0, 0] + Array("isomavc1".utf8))) == nil)
    }

    // MARK: Not images, hostile input

    @Test("Empty files, text named .jpg, random bytes and read errors are not images")
    func notImages() {
        #expect(probe([]) == nil)
        #expect(probe(Array("This is a text file someone named holiday.jpg\n".utf8)) == nil)
        var generator = SplitMix64(seed: 42)
        for _ in 0..<50 {
            let length = Int.random(in: 1...4096, using: &generator)
            let garbage = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(probe(garbage) == nil)
        }
        let png = SampleImages.png(width: 4, height: 4)
        #expect(ImageProbe.probe(fileSize: png.count) { _, _ in nil } == nil)
    }

    @Test("Hostile sizes in headers neither trap nor overflow")
    func hostileSizes() {
        // ISO BMFF 64-bit box size, box size smaller than its header, ftyp claiming more than the file.
        let hugeMeta = be32(1) + Array("meta".utf8) + [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]
        #expect(probe(box("ftyp", Array("heic".utf8) + [0, 0, 0, 0]) + hugeMeta) == ImageInfo(format: .heic))
        #expect(probe(be32(0x7FFF_FFFF) + Array("ftypheic".utf8) + [0, 0, 0, 0]) == nil)
        // WebP chunk size running past EOF in an animation.
        let vp8x = chunk("VP8X", [0x02, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(
            probe(riff(vp8x) + Array("ANMF".utf8) + [0xFF, 0xFF, 0xFF, 0xFF])
                == ImageInfo(format: .webp, width: 1 << 24, height: 1 << 24))
        // A 4-billion-pixel ispe times itself must not overflow the limit check.
        let info = ImageInfo(format: .heic, width: Int(UInt32.max), height: Int(UInt32.max))
        #expect(ImageLimits.violation(of: info) != nil)
    }

    // MARK: Limits

    @Test("Limit messages name the size and the limit crossed")
    func limitMessages() {
        #expect(
            ImageLimits.violation(of: ImageInfo(format: .png, width: 13_000, height: 800))
                == "image is 13000×800 px: over 12,000 px a side")
        #expect(
            ImageLimits.violation(of: ImageInfo(format: .jpeg, width: 800, height: 12_001))
                == "image is 800×12001 px: over 12,000 px a side")
        #expect(
            ImageLimits.violation(of: ImageInfo(format: .jpeg, width: 11_000, height: 10_000))
                == "image is 11000×10000 px (110,000,000 pixels): over 100 MP")
        #expect(
            ImageLimits.violation(of: ImageInfo(format: .gif, width: 1000, height: 1000, frameArea: 150_000_000))
                == "animation frames total 150,000,000 pixels: over 100 MP")
    }

    @Test("Images at the limits, WebP/AVIF past 12,000 px, SVG and unknown sizes pass")
    func withinLimits() {
        #expect(ImageLimits.violation(of: ImageInfo(format: .png, width: 12_000, height: 8_333)) == nil)
        #expect(ImageLimits.violation(of: ImageInfo(format: .png, width: 10_000, height: 10_000)) == nil)
        #expect(ImageLimits.violation(of: ImageInfo(format: .webp, width: 16_000, height: 1_000)) == nil)
        #expect(ImageLimits.violation(of: ImageInfo(format: .avif, width: 13_000, height: 1_000)) == nil)
        #expect(ImageLimits.violation(of: ImageInfo(format: .svg, width: 50_000, height: 50_000)) == nil)
        #expect(ImageLimits.violation(of: ImageInfo(format: .heic)) == nil)
        #expect(
            ImageLimits.violation(of: ImageInfo(format: .webp, width: 16_000, height: 16_000))
                == "image is 16000×16000 px (256,000,000 pixels): over 100 MP")
    }

    @Test("A header-only PNG of 13000×800 is flagged end to end")
    func probeThenLimit() throws {
        let info = try #require(probe(SampleImages.pngHeaderOnly(width: 13_000, height: 800)))
        #expect(ImageLimits.violation(of: info) == "image is 13000×800 px: over 12,000 px a side")
    }
}
