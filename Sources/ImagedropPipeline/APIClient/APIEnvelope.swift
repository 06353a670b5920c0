import ImagedropSupport
import ImagedropSystem
import ImagedropStore
import Foundation

/// Cloudflare's reply envelope: `success`, `errors[].code/message`, `messages`, `result`.
package struct APIEnvelope<Result: Decodable>: Decodable {
    package var success: Bool?
    package var errors: [APIMessage]?
    package var result: Result?

    package enum CodingKeys: String, CodingKey { case success, errors, result }

    package init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        success = try? container.decodeIfPresent(Bool.self, forKey: .success)
        errors = try? container.decodeIfPresent([APIMessage].self, forKey: .errors)
        // `result` is null on failures and a different shape per route; a shape we do not expect is not fatal.
        result = try? container.decodeIfPresent(Result.self, forKey: .result)
    }
}

public struct APIMessage: Decodable, Sendable, Equatable {
    public var code: Int?
    public var message: String?
    public var errorChain: [APIMessage]?

    package enum CodingKeys: String, CodingKey {
        case code, message
        case errorChain = "error_chain"
    }
}

/// The image object (`result` of upload and details; items of list v2).
public struct ImageRecord: Decodable, Sendable, Equatable {
    public var id: String
    public var filename: String?
    public var uploaded: String?
    public var variants: [String]?
    public var requireSignedURLs: Bool?
    /// `meta.sha256` when imagedrop (or anyone) recorded it: tells whether an existing id holds these bytes.
    public var metaSHA256: String?
    public var metaJobKey: String?

    package enum CodingKeys: String, CodingKey { case id, filename, uploaded, variants, requireSignedURLs, meta }
    package struct MetaKeys: Decodable {
        package var sha256: String?
        package var imagedrop_job: String?
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        filename = try? container.decodeIfPresent(String.self, forKey: .filename)
        uploaded = try? container.decodeIfPresent(String.self, forKey: .uploaded)
        variants = try? container.decodeIfPresent([String].self, forKey: .variants)
        requireSignedURLs = try? container.decodeIfPresent(Bool.self, forKey: .requireSignedURLs)
        let meta = try? container.decodeIfPresent(MetaKeys.self, forKey: .meta)
        metaSHA256 = meta?.sha256
        metaJobKey = meta?.imagedrop_job
    }
}

package struct ImageList: Decodable {
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
        try? JSONDecoder().decode(APIEnvelope<R>.self, from: Data(body))
    }
}
