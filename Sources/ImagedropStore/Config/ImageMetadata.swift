import ImagedropSupport
import ImagedropSystem
import Foundation

/// The `metadata` JSON sent with each upload: the user's `images.metadata` plus what imagedrop adds
/// (`sha256`, `source_path`, and `imagedrop_job` when Cloudflare chooses the id), within Cloudflare's
/// 1024-byte limit. `source_path` is shortened (keeping its end, which names the file) when it would not fit.
public enum ImageMetadata {
    public static let limit = 1024

    /// Nil when even without `source_path` the JSON would exceed the limit (user metadata close to 1024 bytes).
    /// URL jobs pass no `sha256` (Cloudflare fetches the bytes) and send the URL, password redacted, as
    /// `sourceKey` "source_url".
    public static func build(userJSON: String?, sha256: String?, sourcePath: String, jobKey: String?,
                             sourceKey: String = "source_path") -> String? {
        var object: [String: Any] = [:]
        if let userJSON, let user = try? JSONSerialization.jsonObject(with: Data(userJSON.utf8)) as? [String: Any] {
            object = user
        }
        if let sha256 { object["sha256"] = sha256 }
        if let jobKey { object["imagedrop_job"] = jobKey }
        object[sourceKey] = ""
        let withoutPath = encode(object)
        let room = limit - withoutPath.utf8.count
        if room < 0 {
            object.removeValue(forKey: sourceKey)
            let minimal = encode(object)
            return minimal.utf8.count <= limit ? minimal : nil
        }
        object[sourceKey] = shorten(sourcePath, toEscapedBytes: room)
        return encode(object)
    }

    package static func encode(_ object: [String: Any]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return "{}"
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The longest suffix of `path` whose JSON-escaped form fits in `room` bytes, prefixed with "…" when cut.
    package static func shorten(_ path: String, toEscapedBytes room: Int) -> String {
        func escapedCount(_ text: String) -> Int { encode(["k": text]).utf8.count - encode(["k": ""]).utf8.count }
        if escapedCount(path) <= room { return path }
        var characters = Array(path)
        while !characters.isEmpty, escapedCount("…" + String(characters)) > room { characters.removeFirst() }
        return characters.isEmpty ? "" : "…" + String(characters)
    }
}
