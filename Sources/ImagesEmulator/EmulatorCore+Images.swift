import ImagedropSupport

/// The single-image operations and the small account-level routes.
extension EmulatorCore {
    func getImage(_ id: String) -> Reply {
        guard let record = store.get(id) else { return .error(.imageNotFound) }
        return .success(imageJSON.value(record))
    }

    func deleteImage(_ id: String) -> Reply {
        store.delete(id) ? .success(.object([])) : .error(.imageNotFound)
    }

    /// `PATCH` with `{"metadata": {...}, "requireSignedURLs": bool, "creator": "…"}`, each optional.
    func patchImage(_ id: String, body: [UInt8]) -> Reply {
        let request: JSONValue
        if body.allSatisfy({ [0x20, 0x09, 0x0A, 0x0D].contains($0) }) {
            request = .object([])
        } else {
            guard let parsed = try? JSONValue.parse(body), parsed.isObject else {
                return .error(.badRequest("ERROR 5400: Bad request: the body must be a JSON object"))
            }
            request = parsed
        }
        let metadata = request["metadata"]
        if let metadata, metadata != .null {
            guard metadata.isObject else {
                return .error(.badRequest("ERROR 5400: Bad request: metadata must be a JSON object"))
            }
            guard metadata.serialized.utf8.count <= 1024 else {
                return .error(.badRequest("ERROR 5400: Bad request: metadata must not exceed 1024 bytes"))
            }
        }
        let signed = request["requireSignedURLs"]
        if let signed, signed != .null, signed.boolValue == nil {
            return .error(.badRequest("ERROR 5400: Bad request: requireSignedURLs must be a boolean"))
        }
        let creator = request["creator"]
        if let creator, creator != .null, creator.stringValue == nil {
            return .error(.badRequest("ERROR 5400: Bad request: creator must be a string"))
        }
        let updated = store.update(id) { record in
            if let flag = signed?.boolValue {
                if flag, record.isCustomID { return .signedCustomID }
                record.requireSignedURLs = flag
            }
            if let metadata, metadata.isObject { record.meta = metadata }
            if let creator { record.creator = creator.stringValue }
            return nil
        }
        switch updated {
        case .success(let record): return .success(imageJSON.value(record))
        case .failure(let error): return .error(error)
        }
    }

    /// The original bytes, when the emulator was started with `storeBytes`.
    func blob(_ id: String) -> Reply {
        guard let record = store.get(id) else { return .error(.imageNotFound) }
        guard let bytes = record.bytes else {
            return .error(
                APIError(
                    status: .notFound, code: 5404,
                    message: "ERROR 5404: Image bytes were not kept (start the emulator with --store-bytes)"))
        }
        return Reply(status: .ok, contentType: record.format.mimeType, body: bytes)
    }

    /// `count.allowed` is the image quota when one is set (else a paid plan's 100,000), `count.current` the images held.
    func stats() -> Reply {
        let allowed = faults.configuration.imageQuota ?? 100_000
        return .success(
            .object([
                ("count", .object([("allowed", .number(String(allowed))), ("current", .number(String(store.count)))]))
            ]))
    }

    func mintBatchToken(account: String) -> Reply {
        let minted = batchTokens.mint(account: account, nowNanos: Timestamp.monotonicNanos())
        return .success(.object([("token", .string(minted.token)), ("expiresAt", .string(minted.expiresAt))]))
    }

    /// `GET /user/tokens/verify`: the token's id is derived from the token so it is stable across calls.
    func verify(_ credentials: Credentials) -> Reply {
        let id = String(SHA256Hasher.hex(of: Array(credentials.secret.utf8)).prefix(32))
        return .success(.object([("id", .string(id)), ("status", .string("active"))]))
    }

    func variants() -> Reply {
        let entries: [(String, JSONValue)] = configuration.variantNames.map { name in
            let size: (Int, Int) = name == "thumbnail" ? (100, 100) : (1366, 768)
            return (
                name,
                .object([
                    ("id", .string(name)),
                    (
                        "options",
                        .object([
                            ("fit", .string("scale-down")), ("metadata", .string("none")),
                            ("width", .number(String(size.0))), ("height", .number(String(size.1))),
                        ])
                    ),
                    ("neverRequireSignedURLs", .bool(false)),
                ])
            )
        }
        return .success(.object([("variants", .object(entries))]))
    }

    func signingKeys() -> Reply {
        let value = String(SHA256Hasher.hex(of: Array(configuration.accountHash.utf8)).prefix(44))
        return .success(
            .object([("keys", .array([.object([("name", .string("default")), ("value", .string(value))])]))]))
    }
}
