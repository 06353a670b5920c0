import ImagedropSupport

/// The `images_image` object the API returns for an image.
struct ImageJSON {
    let accountHash: String
    let variantNames: [String]

    func variantURLs(for id: String) -> [String] {
        let path = PercentEncoding.encodePath(id)
        return variantNames.map { "https://imagedelivery.net/\(accountHash)/\(path)/\($0)" }
    }

    func value(_ record: ImageRecord) -> JSONValue {
        var pairs: [(String, JSONValue)] = [("id", .string(record.id))]
        // A file part without a filename stores none; the real API then omits it.
        if let filename = record.filename { pairs.append(("filename", .string(filename))) }
        pairs.append(("creator", record.creator.map(JSONValue.string) ?? .null))
        pairs.append(("meta", record.meta))
        pairs.append(("uploaded", .string(Timestamp.iso8601(millis: record.uploadedMillis))))
        pairs.append(("requireSignedURLs", .bool(record.requireSignedURLs)))
        pairs.append(("variants", .array(variantURLs(for: record.id).map(JSONValue.string))))
        return .object(pairs)
    }
}
