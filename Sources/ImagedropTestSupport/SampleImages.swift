import ImagedropSupport

/// Small but genuinely valid image files for tests, the demo and the benchmarks. Pure Swift, no codecs:
/// PNG pixels go into stored (uncompressed) deflate blocks, so size is predictable and generation is a
/// memory fill plus CRC32/Adler-32. A target of its own: the daemon never links it.
package enum SampleImages {
    package static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    /// The most a stored deflate block can hold (16-bit LEN).
    package static let storedBlockSize = 65_535

    /// A real 8-bit RGB PNG. The seed changes every row, so different seeds give different bytes (and
    /// different content hashes, which the dedup-by-hash tests rely on).
    package static func png(width: Int, height: Int, seed: UInt64 = 0) -> [UInt8] {
        precondition(width > 0 && height > 0, "PNG dimensions must be positive")
        let rowBytes = 1 + 3 * width
        var raw = [UInt8](repeating: 0, count: rowBytes * height)
        raw.withUnsafeMutableBufferPointer { buffer in
            for y in 0..<height {
                // A per-row hash of (seed, y) steers a cheap gradient: fast to fill, not uniform, seed-specific.
                let mix = splitmix(seed &+ UInt64(y))
                let base = y * rowBytes  // filter byte 0 (None) stays at buffer[base]
                let r0 = UInt8(truncatingIfNeeded: mix)
                let g0 = UInt8(truncatingIfNeeded: mix >> 8)
                let b0 = UInt8(truncatingIfNeeded: y ^ Int(truncatingIfNeeded: mix >> 16))
                var offset = base + 1
                for x in 0..<width {
                    let step = UInt8(truncatingIfNeeded: x)
                    buffer[offset] = r0 &+ step
                    buffer[offset + 1] = g0 ^ step
                    buffer[offset + 2] = b0 &+ (step >> 1)
                    offset += 3
                }
            }
        }
        // The IDAT is written straight into a file buffer of the final size: at 8 MB a file, every extra
        // intermediate array is a measurable share of the benchmark's setup time.
        let blocks = max(1, (raw.count + storedBlockSize - 1) / storedBlockSize)
        let idatLength = 2 + 5 * blocks + raw.count + 4
        var file = pngSignature
        file.reserveCapacity(8 + 25 + 12 + idatLength + 12)
        appendChunk("IHDR", ihdr(width: width, height: height), to: &file)
        appendBE32(idatLength, to: &file)
        let crcStart = file.count
        file += Array("IDAT".utf8)
        appendZlibStored(raw, to: &file)
        let crc = file.withUnsafeBufferPointer { CRC32.checksum(UnsafeBufferPointer(rebasing: $0[crcStart...])) }
        appendBE32(Int(crc), to: &file)
        appendChunk("IEND", [], to: &file)
        return file
    }

    /// A PNG of about `approximateBytes` (within a row's worth), roughly square.
    package static func png(approximateBytes: Int, seed: UInt64) -> [UInt8] {
        // signature 8, IHDR 25, IDAT framing 12, zlib header + Adler 6, IEND 12; 5 bytes per stored block.
        let fixed = 8 + 25 + 12 + 6 + 12
        let target = max(approximateBytes - fixed, 4)
        let payload = max(target - (target / (storedBlockSize + 5) + 1) * 5, 4)
        // Rows come in 1 + 3w bytes: try widths near the square root and keep the one that lands closest.
        let guess = max(1, Int(Double(payload / 3).squareRoot()))
        var best = (width: guess, height: 1, error: Int.max)
        for width in max(1, guess - 16)...(guess + 16) {
            let rowBytes = 1 + 3 * width
            let height = max(1, (payload + rowBytes / 2) / rowBytes)
            let error = abs(height * rowBytes - payload)
            if error < best.error { best = (width, height, error) }
        }
        return png(width: best.width, height: best.height, seed: seed)
    }

    /// Signature, IHDR with any dimensions and IEND: tiny, CRC-valid, enough for header-level checks.
    package static func pngHeaderOnly(width: Int, height: Int) -> [UInt8] {
        var file = pngSignature
        appendChunk("IHDR", ihdr(width: width, height: height), to: &file)
        appendChunk("IEND", [], to: &file)
        return file
    }

    /// A minimal valid GIF89a: two-colour palette, one frame of colour 0.
    package static func gif(width: Int, height: Int) -> [UInt8] {
        precondition(width > 0 && width <= 0xFFFF && height > 0 && height <= 0xFFFF, "GIF sides are 1...65535")
        var file = Array("GIF89a".utf8)
        appendLE16(width, to: &file)
        appendLE16(height, to: &file)
        file += [0x80, 0x00, 0x00]  // global table of 2 entries, background 0, no aspect ratio
        file += [0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF]
        file.append(0x2C)
        file += [0, 0, 0, 0]  // left, top
        appendLE16(width, to: &file)
        appendLE16(height, to: &file)
        file.append(0x00)  // no local table, not interlaced
        file.append(0x02)  // LZW minimum code size
        let data = gifLZW(pixelCount: width * height)
        var start = 0
        while start < data.count {
            let end = min(start + 255, data.count)
            file.append(UInt8(end - start))
            file += data[start..<end]
            start = end
        }
        file += [0x00, 0x3B]  // block terminator, trailer
        return file
    }

    /// SOI, optional APP1 "Exif" padding of `exifPadding` bytes (split over several APP1 segments when it
    /// exceeds one segment's 65,533), SOF0 with the dimensions, EOI. Signature-valid, not decodable.
    package static func jpegHeaderOnly(width: Int, height: Int, exifPadding: Int = 0) -> [UInt8] {
        var file: [UInt8] = [0xFF, 0xD8]
        var remaining = exifPadding
        var first = true
        while remaining > 0 {
            let size = min(remaining, 65_533)
            file += [0xFF, 0xE1]
            appendBE16(size + 2, to: &file)
            var body = [UInt8](repeating: 0, count: size)
            if first { for (index, byte) in "Exif\0\0".utf8.prefix(size).enumerated() { body[index] = byte } }
            file += body
            remaining -= size
            first = false
        }
        file += [0xFF, 0xC0]
        appendBE16(17, to: &file)  // 8 + 3 components × 3
        file.append(8)
        appendBE16(height, to: &file)
        appendBE16(width, to: &file)
        file += [3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0]
        file += [0xFF, 0xD9]
        return file
    }

    /// RIFF/WEBP with only a VP8X chunk carrying the canvas size (1...2^24 a side).
    package static func webpHeaderOnly(width: Int, height: Int) -> [UInt8] {
        var file = Array("RIFF".utf8)
        appendLE32(4 + 8 + 10, to: &file)
        file += Array("WEBPVP8X".utf8)
        appendLE32(10, to: &file)
        file += [0, 0, 0, 0]  // flags, reserved
        for value in [width - 1, height - 1] {
            file += [
                UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8),
                UInt8(truncatingIfNeeded: value >> 16),
            ]
        }
        return file
    }
}

// MARK: - Building blocks

extension SampleImages {
    package static func ihdr(width: Int, height: Int) -> [UInt8] {
        var data: [UInt8] = []
        appendBE32(width, to: &data)
        appendBE32(height, to: &data)
        data += [8, 2, 0, 0, 0]  // 8-bit, truecolour, deflate, adaptive filtering, no interlace
        return data
    }

    package static func appendChunk(_ type: String, _ data: [UInt8], to file: inout [UInt8]) {
        appendBE32(data.count, to: &file)
        let start = file.count
        file += Array(type.utf8)
        file += data
        let crc = file.withUnsafeBufferPointer { CRC32.checksum(UnsafeBufferPointer(rebasing: $0[start...])) }
        appendBE32(Int(crc), to: &file)
    }

    /// zlib stream (RFC 1950) of stored deflate blocks (RFC 1951 §3.2.4): no compression, valid everywhere.
    package static func appendZlibStored(_ raw: [UInt8], to out: inout [UInt8]) {
        out += [0x78, 0x01]
        var start = 0
        repeat {
            let end = min(start + storedBlockSize, raw.count)
            let length = end - start
            out.append(end == raw.count ? 1 : 0)  // BFINAL, BTYPE 00
            out += [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF)]
            out += raw[start..<end]
            start = end
        } while start < raw.count
        appendBE32(Int(adler32(raw)), to: &out)
    }

    package static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1
        var b: UInt32 = 0
        bytes.withUnsafeBufferPointer { buffer in
            var index = 0
            while index < buffer.count {
                // 5552 is the most bytes before b can overflow 32 bits, so the modulo runs once per run.
                let end = min(index + 5552, buffer.count)
                while index < end {
                    a &+= UInt32(buffer[index])
                    b &+= a
                    index += 1
                }
                a %= 65_521
                b %= 65_521
            }
        }
        return b << 16 | a
    }

    /// LZW codes for `pixelCount` pixels of colour 0 with minimum code size 2 (clear = 4, end = 5). A clear
    /// code before every second pixel keeps the code width at 3 bits, so no table bookkeeping is needed.
    package static func gifLZW(pixelCount: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(pixelCount * 9 / 16 + 4)
        var accumulator: UInt32 = 0
        var bits: UInt32 = 0
        func emit(_ code: UInt32) {
            accumulator |= code << bits
            bits += 3
            while bits >= 8 {
                out.append(UInt8(truncatingIfNeeded: accumulator))
                accumulator >>= 8
                bits -= 8
            }
        }
        for pixel in 0..<pixelCount {
            if pixel % 2 == 0 { emit(4) }
            emit(0)
        }
        emit(5)
        if bits > 0 { out.append(UInt8(truncatingIfNeeded: accumulator)) }
        return out
    }

    package static func splitmix(_ value: UInt64) -> UInt64 { SplitMix64.mix(value &+ 0x9E37_79B9_7F4A_7C15) }

    package static func appendBE16(_ value: Int, to bytes: inout [UInt8]) {
        bytes += [UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    package static func appendBE32(_ value: Int, to bytes: inout [UInt8]) {
        bytes += [
            UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
            UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value),
        ]
    }

    package static func appendLE16(_ value: Int, to bytes: inout [UInt8]) {
        bytes += [UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8)]
    }

    package static func appendLE32(_ value: Int, to bytes: inout [UInt8]) {
        bytes += [
            UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8),
            UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 24),
        ]
    }
}

/// CRC-32 (ISO-HDLC, as in PNG and zlib), slicing-by-8: the 8 MB benchmark files checksum all their bytes.
extension SampleImages {
    package enum CRC32 {
        /// Eight 256-entry tables back to back: entry `k * 256 + n` is table k of the slicing-by-8 scheme.
        package static let table: [UInt32] = {
            var table = [UInt32](repeating: 0, count: 8 * 256)
            for n in 0..<256 {
                var c = UInt32(n)
                for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
                table[n] = c
            }
            for k in 1..<8 {
                for n in 0..<256 {
                    let previous = table[(k - 1) * 256 + n]
                    table[k * 256 + n] = (previous >> 8) ^ table[Int(previous & 0xFF)]
                }
            }
            return table
        }()

        package static func checksum(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
            table.withUnsafeBufferPointer { t in
                var crc: UInt32 = 0xFFFF_FFFF
                var index = 0
                let count = bytes.count
                while index + 8 <= count {
                    let lo =
                        crc
                        ^ (UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8
                            | UInt32(bytes[index + 2]) << 16 | UInt32(bytes[index + 3]) << 24)
                    let hi =
                        UInt32(bytes[index + 4]) | UInt32(bytes[index + 5]) << 8
                        | UInt32(bytes[index + 6]) << 16 | UInt32(bytes[index + 7]) << 24
                    crc =
                        t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int((lo >> 8) & 0xFF)]
                        ^ t[5 * 256 + Int((lo >> 16) & 0xFF)] ^ t[4 * 256 + Int(lo >> 24)]
                        ^ t[3 * 256 + Int(hi & 0xFF)] ^ t[2 * 256 + Int((hi >> 8) & 0xFF)]
                        ^ t[1 * 256 + Int((hi >> 16) & 0xFF)] ^ t[Int(hi >> 24)]
                    index += 8
                }
                while index < count {
                    crc = t[Int((crc ^ UInt32(bytes[index])) & 0xFF)] ^ (crc >> 8)
                    index += 1
                }
                return crc ^ 0xFFFF_FFFF
            }
        }
    }
}
