import ImagedropSupport
import ImagedropTestSupport
import Testing

@testable import ImagesEmulator

@Suite("Image signatures")
struct ImageSignatureTests {
    private func probe(_ bytes: [UInt8], chunk: Int = 1000) -> ImageInfo? {
        var probe = ImageProbe()
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + chunk)
            bytes[offset..<end].withUnsafeBytes { probe.feed($0) }
            offset = end
        }
        return probe.result()
    }

    @Test("formats and dimensions come from the headers")
    func formats() {
        #expect(probe(SampleImages.png(width: 3, height: 4)) == ImageInfo(format: .png, width: 3, height: 4))
        #expect(probe(SampleImages.gif(width: 9, height: 2)) == ImageInfo(format: .gif, width: 9, height: 2))
        #expect(
            probe(SampleImages.webpHeaderOnly(width: 300, height: 200))
                == ImageInfo(format: .webp, width: 300, height: 200))
        #expect(probe(Array("<svg xmlns='http://www.w3.org/2000/svg'/>".utf8))?.format == .svg)
        #expect(probe(Array("GIF".utf8)) == nil)
        #expect(probe(Array("hello".utf8)) == nil)
    }

    @Test("a JPEG's frame header is found behind large EXIF segments, whatever the chunking")
    func jpegBehindExif() {
        let jpeg = SampleImages.jpegHeaderOnly(width: 640, height: 480, exifPadding: 150_000)
        for chunk in [1, 7, 4096, 65536] {
            #expect(probe(jpeg, chunk: chunk) == ImageInfo(format: .jpeg, width: 640, height: 480))
        }
    }

    @Test("limits: 12,000 px a side except WebP, 100 megapixels for all")
    func limits() {
        #expect(ImageLimits.check(ImageInfo(format: .png, width: 12_000, height: 8_000)) == nil)
        #expect(ImageLimits.check(ImageInfo(format: .png, width: 12_001, height: 10)) != nil)
        #expect(ImageLimits.check(ImageInfo(format: .webp, width: 16_000, height: 100)) == nil)
        #expect(ImageLimits.check(ImageInfo(format: .webp, width: 16_000, height: 7_000)) != nil)
        #expect(ImageLimits.check(ImageInfo(format: .svg, width: nil, height: nil)) == nil)
    }
}
