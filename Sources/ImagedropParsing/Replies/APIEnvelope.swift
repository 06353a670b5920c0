import FoundationEssentials
import ImagedropSupport

/// Cloudflare's reply envelope: `success`, `errors[].code/message`, `messages`, `result`.
package struct APIEnvelope<Result: Decodable>: Decodable {
    package var success: Bool?
    package var errors: [APIMessage]?
    package var result: Result?

    package enum CodingKeys: String, CodingKey { case success, errors, result }

    package init(success: Bool?, errors: [APIMessage]?, result: Result?) {
        self.success = success
        self.errors = errors
        self.result = result
    }

    package init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        success = try? container.decodeIfPresent(Bool.self, forKey: .success)
        errors = try? container.decodeIfPresent([APIMessage].self, forKey: .errors)
        // `result` is null on failures and a different shape per route; a shape we do not expect is not fatal.
        result = try? container.decodeIfPresent(Result.self, forKey: .result)
    }
}

extension APIEnvelope: Equatable where Result: Equatable {}

package struct APIMessage: Decodable, Sendable, Equatable {
    package var code: Int?
    package var message: String?
    package var errorChain: [APIMessage]?

    package enum CodingKeys: String, CodingKey {
        case code, message
        case errorChain = "error_chain"
    }
}

extension APIMessage {
    /// "HTTP 415, code 5455: Uploaded image must have …" — code and message from the API, never the token.
    package static func summary(status: Int, messages: [APIMessage]) -> String {
        guard let first = messages.first else { return "HTTP \(status)" }
        var text = "HTTP \(status)"
        if let code = first.code { text += ", code \(code)" }
        if let message = first.message, !message.isEmpty { text += ": " + oneLine(message, limit: 300) }
        if let chain = first.errorChain?.first, let code = chain.code {
            text += " (\(code)\(chain.message.map { ": " + oneLine($0, limit: 200) } ?? ""))"
        }
        return text
    }

    /// The server's text on one line of bounded length: it ends up in `last_error`, log lines and webhooks,
    /// where a control character or a megabyte of message would do harm.
    package static func oneLine(_ message: String, limit: Int) -> String {
        var result = ""
        for scalar in message.unicodeScalars.prefix(limit) {
            let isControl =
                scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value)
                || scalar == "\u{2028}" || scalar == "\u{2029}"
            result.unicodeScalars.append(isControl ? " " : scalar)
        }
        return result
    }
}

/// The image object (`result` of upload and details; items of list v2).
package struct ImageRecord: Decodable, Sendable, Equatable {
    package var id: String
    package var filename: String?
    package var uploaded: String?
    package var variants: [String]?
    package var requireSignedURLs: Bool?
    /// `meta.sha256` when imagedrop (or anyone) recorded it: tells whether an existing id holds these bytes.
    package var metaSHA256: String?
    package var metaJobKey: String?
    /// `meta.source_path`: with `sha256`, the mark of an image imagedrop uploaded (what `reconcile` looks for).
    package var metaSourcePath: String?

    package enum CodingKeys: String, CodingKey { case id, filename, uploaded, variants, requireSignedURLs, meta }
    package struct MetaKeys: Decodable {
        package var sha256: String?
        package var imagedrop_job: String?
        package var source_path: String?
    }

    package init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        filename = try? container.decodeIfPresent(String.self, forKey: .filename)
        uploaded = try? container.decodeIfPresent(String.self, forKey: .uploaded)
        variants = try? container.decodeIfPresent([String].self, forKey: .variants)
        requireSignedURLs = try? container.decodeIfPresent(Bool.self, forKey: .requireSignedURLs)
        let meta = try? container.decodeIfPresent(MetaKeys.self, forKey: .meta)
        metaSHA256 = meta?.sha256
        metaJobKey = meta?.imagedrop_job
        metaSourcePath = meta?.source_path
    }
}

/// `result` of list v2: one page of images and the token for the next (null on the last page).
package struct ImageList: Decodable, Sendable {
    package var images: [ImageRecord]
    package var continuationToken: String?

    package enum CodingKeys: String, CodingKey {
        case images
        case continuationToken = "continuation_token"
    }
}

package struct BatchTokenResult: Decodable {
    package var token: String
    package var expiresAt: String?
}

package enum EnvelopeDecoder {
    package static func decode<R: Decodable>(_ type: R.Type, from body: [UInt8]) -> APIEnvelope<R>? {
        decodeWithJSONDecoder(type, from: body)
    }

    /// The upload's and the details' reply: read directly where `ImageEnvelopeReader` can, else as above.
    package static func decode(_ type: ImageRecord.Type, from body: [UInt8]) -> APIEnvelope<ImageRecord>? {
        ImageEnvelopeReader.read(body) ?? decodeWithJSONDecoder(type, from: body)
    }

    /// JSONDecoder's reading alone: what the fuzz target holds `ImageEnvelopeReader` to.
    package static func decodeWithJSONDecoder<R: Decodable>(_ type: R.Type, from body: [UInt8]) -> APIEnvelope<R>? {
        try? JSONDecoder().decode(APIEnvelope<R>.self, from: Data(body))
    }
}
