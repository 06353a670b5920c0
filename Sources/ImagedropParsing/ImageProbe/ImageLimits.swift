/// Cloudflare Images' hosted-image limits (reference notes §3), checked locally so an upload that would be
/// refused is failed without spending a request. Where the sources are unclear we only refuse what is
/// certainly over: a local refusal is final for the job, a server refusal merely costs one request.
package enum ImageLimits {
    /// "10 MB": third-party validators read it as 10 × 2^20, and the stricter 10^7 is unconfirmed.
    package static let maxBytes = 10_485_760
    /// Per side. WebP is excepted by the docs ("excluding WebP and AVIF") and by DESIGN.md. AVIF is excepted
    /// too, and its separate "AVIF dimension 1,200 px" is not enforced: it reads as a delivery/transform
    /// limit, AVIF ingest is Enterprise-only and unconfirmed (§3), and enforcing it would fail ordinary
    /// photos locally for good. SVG is excepted as well: its width/height are nominal, it is never rasterised.
    package static let maxSide = 12_000
    /// Area, and for animations the sum of all frame areas (the current page says 100 MP for both; an
    /// older page said 50 MP for animations, so 50–100 MP animations are left to the server).
    package static let maxPixels = 100_000_000

    /// One-line reason like "image is 13000×800 px: over 12,000 px a side", or nil when within limits
    /// (or when the header did not say enough to tell).
    package static func violation(of info: ImageInfo) -> String? {
        guard info.format != .svg else { return nil }
        if let width = info.width, let height = info.height {
            let size = "\(width)×\(height) px"
            if info.format != .webp && info.format != .avif && max(width, height) > maxSide {
                return "image is \(size): over \(grouped(maxSide)) px a side"
            }
            let area = saturatingProduct(width, height)
            if area > maxPixels {
                return "image is \(size) (\(grouped(area)) pixels): over \(maxPixels / 1_000_000) MP"
            }
        }
        if let frameArea = info.frameArea, frameArea > maxPixels {
            return "animation frames total \(grouped(frameArea)) pixels: over \(maxPixels / 1_000_000) MP"
        }
        return nil
    }

    /// 12000 → "12,000" (no Foundation formatter needed for a log line).
    package static func grouped(_ value: Int) -> String {
        let digits = Array(String(value))
        var result = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(digit)
        }
        return result
    }
}
