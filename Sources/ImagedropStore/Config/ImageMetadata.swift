import ImagedropParsing
import ImagedropSupport
import ImagedropSystem
import Synchronization

/// The `metadata` JSON sent with each upload: the user's `images.metadata` plus what imagedrop adds
/// (`sha256`, `source_path`, and `imagedrop_job` when Cloudflare chooses the id), within Cloudflare's
/// 1024-byte limit. `source_path` is shortened (keeping its end, which names the file) when it would not fit.
///
/// Keys are sorted; the user's values are encoded once per distinct `images.metadata` (JSONWriter, cached),
/// imagedrop's strings by hand: per upload this is string concatenation, not an object graph through a
/// serializer (JSONSerialization's was a tenth of the daemon's CPU per upload).
package enum ImageMetadata {
    package static let limit = 1024

    /// Nil when even without `source_path` the JSON would exceed the limit (user metadata close to 1024 bytes).
    /// URL jobs pass no `sha256` (Cloudflare fetches the bytes) and send the URL without its user-info (no
    /// credential belongs in metadata; the `url` field alone carries it) as `sourceKey` "source_url".
    package static func build(
        userJSON: String?, sha256: String?, sourcePath: String, jobKey: String?,
        sourceKey: String = "source_path"
    ) -> String? {
        var pairs = userPairs(userJSON)
        func set(_ key: String, _ encodedValue: String) {
            if let index = pairs.firstIndex(where: { $0.key == key }) {
                pairs[index].value = encodedValue
            } else {
                pairs.append((key, encodedValue))
            }
        }
        if let sha256 { set("sha256", JSONString.quoted(sha256)) }
        if let jobKey { set("imagedrop_job", JSONString.quoted(jobKey)) }
        set(sourceKey, "\"\"")
        pairs.sort { $0.key < $1.key }
        let withoutPath = encode(pairs)
        let room = limit - withoutPath.utf8.count
        if room < 0 {
            pairs.removeAll { $0.key == sourceKey }
            let minimal = encode(pairs)
            return minimal.utf8.count <= limit ? minimal : nil
        }
        set(sourceKey, JSONString.quoted(shorten(sourcePath, toEscapedBytes: room)))
        return encode(pairs)
    }

    private static func encode(_ pairs: [(key: String, value: String)]) -> String {
        var out = "{"
        for (index, pair) in pairs.enumerated() {
            if index > 0 { out += "," }
            JSONString.append(pair.key, to: &out)
            out += ":"
            out += pair.value
        }
        return out + "}"
    }

    /// The user's object as (key, encoded value) pairs; not an object (or not JSON): none, as before.
    private static func userPairs(_ userJSON: String?) -> [(key: String, value: String)] {
        guard let userJSON else { return [] }
        if let cached = cache.withLock({ $0[userJSON] }) { return cached }
        var pairs: [(key: String, value: String)] = []
        if let object = JSONReader.object(userJSON) {
            for (key, value) in object {
                guard let text = try? JSONWriter.string(value, options: [.sortedKeys]) else { continue }
                pairs.append((key, text))
            }
        }
        cache.withLock { cache in
            if cache.count > 16 { cache.removeAll() }  // configs change rarely; a handful of sources at most
            cache[userJSON] = pairs
        }
        return pairs
    }

    private static let cache = Mutex<[String: [(key: String, value: String)]]>([:])

    /// The longest suffix of `path` whose JSON-escaped form fits in `room` bytes, prefixed with "…" when cut.
    package static func shorten(_ path: String, toEscapedBytes room: Int) -> String {
        func escapedCount(_ text: String) -> Int { JSONString.quoted(text).utf8.count - 2 }
        if escapedCount(path) <= room { return path }
        var characters = Array(path)
        while !characters.isEmpty, escapedCount("…" + String(characters)) > room { characters.removeFirst() }
        return characters.isEmpty ? "" : "…" + String(characters)
    }
}
