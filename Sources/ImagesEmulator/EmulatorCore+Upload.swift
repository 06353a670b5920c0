import ImagedropSupport

extension EmulatorCore {
    /// `POST …/images/v1` once the form has been read. The checks run in the order of the reference's
    /// emulator checklist (the real order is unconfirmed): file/url, id rules, id with signed URLs, metadata,
    /// image signature, dimensions, then the duplicate id and the image quota (5453) when storing.
    func upload(_ form: UploadForm, account: String) -> Reply {
        if let oversized = form.oversizedText {
            return .error(.badRequest("ERROR 5400: Bad request: form field '\(oversized)' is too large"))
        }
        let url = form.text("url")
        if form.file != nil, url != nil { return .error(.fileAndURL) }
        if form.fileParts > 1 { return .error(.badRequest("ERROR 5400: Bad request: only one file may be uploaded")) }
        let file: ReceivedFile
        if let received = form.file {
            file = received
        } else {
            guard url != nil else { return .error(.neitherFileNorURL) }
            switch form.fetched {
            case .success(let fetched)?: file = fetched.received(storeBytes: configuration.storeBytes)
            case .failure(let error)?: return .error(error)
            case nil: return .error(.urlFetchFailed)
            }
        }
        let customID = form.text("id").flatMap { $0.isEmpty ? nil : $0 }
        if let customID, let violation = CustomIDRules.violation(of: customID) { return .error(violation) }

        let requireSignedURLs: Bool
        switch parseBoolean(form.text("requireSignedURLs")) {
        case .success(let flag): requireSignedURLs = flag
        case .failure(let error): return .error(error)
        }
        if customID != nil, requireSignedURLs { return .error(.signedCustomID) }

        let meta: JSONValue
        switch metadata(of: form) {
        case .success(let value): meta = value
        case .failure(let error): return .error(error)
        }
        let creator = form.text("creator")
        if let creator, creator.unicodeScalars.count > 1024 {
            return .error(.badRequest("ERROR 5400: Bad request: creator must be 1024 characters or less"))
        }

        guard file.size > 0, let info = file.probe.result() else { return .error(.notAnImage) }
        if let error = ImageLimits.check(info) { return .error(error) }

        let id = customID ?? EmulatorCore.generatedID()
        let uploaded = Timestamp.nowMillis()
        let inserted = store.insert(id: id, quota: faults.configuration.imageQuota) { sequence in
            ImageRecord(
                id: id, filename: file.filename, sha256: file.sha256, size: file.size, meta: meta, creator: creator,
                requireSignedURLs: requireSignedURLs, uploadedMillis: uploaded, isCustomID: customID != nil,
                format: info.format, bytes: file.bytes, sequence: sequence)
        }
        switch inserted {
        case .success(let record): return .success(imageJSON.value(record))
        case .failure(let error): return .error(error)
        }
    }

    /// The SDKs send booleans as `true`/`false`; other spellings are unconfirmed, so `1`/`0` are tolerated
    /// and anything else refused.
    func parseBoolean(_ text: String?) -> Result<Bool, APIError> {
        guard let text else { return .success(false) }
        switch text.lowercased() {
        case "true", "1": return .success(true)
        case "false", "0", "": return .success(false)
        default: return .failure(.badRequest("ERROR 5400: Bad request: requireSignedURLs must be true or false"))
        }
    }

    /// `metadata` as one JSON object text part, or the Python SDK's `metadata.<key>` parts, or both merged.
    /// At most 1024 bytes, measured on the compact JSON.
    func metadata(of form: UploadForm) -> Result<JSONValue, APIError> {
        var pairs: [(String, JSONValue)] = []
        if let text = form.text("metadata") {
            guard let parsed = try? JSONValue.parse(text), case .object(let object) = parsed else {
                return .failure(.badRequest("ERROR 5400: Bad request: metadata must be a JSON object"))
            }
            pairs = object
        }
        for part in form.nestedMetadataParts {
            pairs = EmulatorCore.setting(part.path[...], to: .string(part.value), in: pairs)
        }
        let meta = JSONValue.object(pairs)
        if meta.serialized.utf8.count > 1024 {
            return .failure(.badRequest("ERROR 5400: Bad request: metadata must not exceed 1024 bytes"))
        }
        return .success(meta)
    }

    private static func setting(
        _ path: ArraySlice<String>, to value: JSONValue, in pairs: [(String, JSONValue)]
    )
        -> [(String, JSONValue)]
    {
        guard let key = path.first else { return pairs }
        var pairs = pairs
        let index = pairs.firstIndex(where: { $0.0 == key })
        let newValue: JSONValue
        if path.count == 1 {
            newValue = value
        } else {
            var inner: [(String, JSONValue)] = []
            if let index, case .object(let existing) = pairs[index].1 { inner = existing }
            newValue = .object(setting(path.dropFirst(), to: value, in: inner))
        }
        if let index { pairs[index].1 = newValue } else { pairs.append((key, newValue)) }
        return pairs
    }

    /// A random version-4 UUID, the shape of the ids Cloudflare chooses.
    static func generatedID() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[6] = bytes[6] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        let hex = Hex.encode(bytes)
        let characters = Array(hex)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(characters[$0]) }.joined(separator: "-")
    }
}
