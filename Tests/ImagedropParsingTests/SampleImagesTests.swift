import Foundation
import ImagedropParsing
import ImagedropTestSupport
import Testing

// Independent, deliberately naive re-implementations: the generator's fast paths are checked against them.

private func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}

private func adler32(_ bytes: [UInt8]) -> UInt32 {
    var a: UInt32 = 1
    var b: UInt32 = 0
    for byte in bytes {
        a = (a + UInt32(byte)) % 65_521
        b = (b + a) % 65_521
    }
    return b << 16 | a
}

private func be32(_ bytes: [UInt8], _ at: Int) -> Int {
    Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
}

private struct PNGChunk {
    var type: String
    var data: [UInt8]
    var crcMatches: Bool
}

private func chunks(of png: [UInt8]) -> [PNGChunk] {
    var result: [PNGChunk] = []
    var offset = 8
    while offset + 12 <= png.count {
        let length = be32(png, offset)
        let typeAndData = png[(offset + 4)..<(offset + 8 + length)]
        let stored = UInt32(be32(png, offset + 8 + length))
        result.append(
            PNGChunk(
                type: String(decoding: png[(offset + 4)..<(offset + 8)], as: UTF8.self),
                data: Array(png[(offset + 8)..<(offset + 8 + length)]),
                crcMatches: crc32(typeAndData) == stored))
        offset += 12 + length
    }
    return result
}

/// Inflates a zlib stream made only of stored blocks, checking LEN/NLEN and the Adler-32 trailer.
private func inflateStored(_ stream: [UInt8]) -> [UInt8]? {
    guard stream.count >= 6, (Int(stream[0]) << 8 | Int(stream[1])) % 31 == 0, stream[0] & 0x0F == 8 else { return nil }
    var out: [UInt8] = []
    var offset = 2
    while true {
        let header = stream[offset]
        guard header & 0b110 == 0 else { return nil }  // BTYPE 00 only
        let length = Int(stream[offset + 1]) | Int(stream[offset + 2]) << 8
        let inverse = Int(stream[offset + 3]) | Int(stream[offset + 4]) << 8
        guard length ^ inverse == 0xFFFF else { return nil }
        out += stream[(offset + 5)..<(offset + 5 + length)]
        offset += 5 + length
        if header & 1 == 1 { break }
    }
    guard offset + 4 == stream.count, UInt32(be32(stream, offset)) == adler32(out) else { return nil }
    return out
}

private func probe(_ bytes: [UInt8]) -> ImageInfo? {
    ImageProbe.probe(fileSize: bytes.count) { offset, count in Array(bytes[offset..<min(bytes.count, offset + count)]) }
}

/// Decodes GIF LZW (variable width, clear/end codes) and returns the pixel indices.
private func decodeGIFLZW(_ data: [UInt8], minimumCodeSize: Int) -> [UInt8]? {
    let clear = 1 << minimumCodeSize
    let end = clear + 1
    var table: [[UInt8]] = []
    func reset() { table = (0..<clear).map { [UInt8($0)] } + [[], []] }
    reset()
    var width = minimumCodeSize + 1
    var bitPosition = 0
    var previous: [UInt8]?
    var out: [UInt8] = []
    while bitPosition + width <= data.count * 8 {
        var code = 0
        for bit in 0..<width where data[(bitPosition + bit) / 8] >> ((bitPosition + bit) % 8) & 1 == 1 {
            code |= 1 << bit
        }
        bitPosition += width
        if code == clear {
            reset()
            width = minimumCodeSize + 1
            previous = nil
            continue
        }
        if code == end { return out }
        let entry: [UInt8]
        if code < table.count, !table[code].isEmpty || code < clear {
            entry = table[code]
        } else if code == table.count, let previous {
            entry = previous + [previous[0]]
        } else {
            return nil
        }
        out += entry
        if let previous, table.count < 4096 { table.append(previous + [entry[0]]) }
        if table.count == 1 << width && width < 12 { width += 1 }
        previous = entry
    }
    return nil
}

@Suite struct SampleImagesTests {
    @Test("Generated PNGs round-trip through the probe")
    func pngRoundTrip() {
        for (width, height) in [(1, 1), (3, 2), (200, 150), (1, 30_000)] {
            #expect(
                probe(SampleImages.png(width: width, height: height))
                    == ImageInfo(format: .png, width: width, height: height))
        }
    }

    @Test("Every PNG chunk has a correct CRC and the IDAT inflates to filtered RGB rows")
    func pngStructure() throws {
        let (width, height) = (150, 500)  // > 64 KiB of pixels: several stored blocks
        let png = SampleImages.png(width: width, height: height, seed: 3)
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let parts = chunks(of: png)
        #expect(parts.map(\.type) == ["IHDR", "IDAT", "IEND"])
        #expect(parts.allSatisfy { $0.crcMatches })
        #expect(parts.first?.data == [0, 0, 0, 150, 0, 0, 1, 0xF4, 8, 2, 0, 0, 0])
        let raw = try #require(inflateStored(parts[1].data))
        #expect(raw.count == height * (1 + 3 * width))
        #expect(stride(from: 0, to: raw.count, by: 1 + 3 * width).allSatisfy { raw[$0] == 0 })
        #expect(Set(raw).count > 16)  // a pattern, not a flat colour
    }

    @Test("Header-only PNGs are tiny, CRC-valid and claim the asked dimensions")
    func pngHeaderOnly() {
        let png = SampleImages.pngHeaderOnly(width: 13_000, height: 800)
        #expect(png.count < 64)
        #expect(chunks(of: png).allSatisfy { $0.crcMatches })
        #expect(probe(png) == ImageInfo(format: .png, width: 13_000, height: 800))
    }

    @Test("Seeds change the bytes; the same seed gives the same bytes")
    func pngSeeds() {
        let a = SampleImages.png(width: 64, height: 64, seed: 1)
        #expect(a == SampleImages.png(width: 64, height: 64, seed: 1))
        #expect(a != SampleImages.png(width: 64, height: 64, seed: 2))
        let small = (0..<20).map { SampleImages.png(width: 2, height: 2, seed: UInt64($0)) }
        #expect(Set(small).count == 20)
    }

    @Test("PNGs sized by bytes land within 2% of the target", arguments: [1_000, 50_000, 8_000_000])
    func pngApproximateBytes(target: Int) {
        let png = SampleImages.png(approximateBytes: target, seed: 9)
        #expect(abs(png.count - target) <= target / 50)
        #expect(probe(png)?.format == .png)
    }

    @Test(
        "zlib itself inflates the IDAT and verifies its Adler-32",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")))
    func zlibAgrees() throws {
        let png = SampleImages.png(width: 100, height: 700, seed: 5)
        let idat = chunks(of: png)[1].data
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sample-images-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("idat.bin")
        try Data(idat).write(to: path)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        let script = "import sys, zlib; sys.stdout.write(str(len(zlib.decompress(open(sys.argv[1], 'rb').read()))))"
        process.arguments = ["-c", script, path.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0)
        #expect(output == String(700 * (1 + 3 * 100)))
    }

    @Test("Generated GIFs decode to width × height pixels")
    func gifDecodes() throws {
        for (width, height) in [(1, 1), (3, 5), (120, 80)] {
            let gif = SampleImages.gif(width: width, height: height)
            #expect(probe(gif) == ImageInfo(format: .gif, width: width, height: height))
            #expect(gif.last == 0x3B)
            // Collect the sub-blocks after the image descriptor (13 + 6 + 10) and the LZW code size byte.
            var offset = 13 + 6 + 10
            let codeSize = Int(gif[offset])
            offset += 1
            var data: [UInt8] = []
            while gif[offset] != 0 {
                let length = Int(gif[offset])
                data += gif[(offset + 1)..<(offset + 1 + length)]
                offset += 1 + length
            }
            #expect(offset + 2 == gif.count)
            let pixels = try #require(decodeGIFLZW(data, minimumCodeSize: codeSize))
            #expect(pixels.count == width * height)
            #expect(pixels.allSatisfy { $0 == 0 })
        }
    }

    @Test("Header-only JPEGs split large EXIF padding into valid segments")
    func jpegHeaderOnly() {
        let jpeg = SampleImages.jpegHeaderOnly(width: 800, height: 600, exifPadding: 70_000)
        #expect(Array(jpeg.prefix(4)) == [0xFF, 0xD8, 0xFF, 0xE1])
        #expect(Array(jpeg[6..<12]) == Array("Exif\0\0".utf8))
        #expect(Array(jpeg.suffix(2)) == [0xFF, 0xD9])
        #expect(jpeg.count == 2 + 70_000 + 2 * 4 + 19 + 2)
        #expect(probe(jpeg) == ImageInfo(format: .jpeg, width: 800, height: 600))
    }

    @Test("Header-only WebPs carry a consistent RIFF size and the VP8X canvas")
    func webpHeaderOnly() {
        let webp = SampleImages.webpHeaderOnly(width: 20_000, height: 3)
        #expect(webp.count == 30)
        #expect(Int(webp[4]) | Int(webp[5]) << 8 == webp.count - 8)
        #expect(probe(webp) == ImageInfo(format: .webp, width: 20_000, height: 3))
    }
}
