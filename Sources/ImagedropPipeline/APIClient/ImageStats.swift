import ImagedropParsing
import ImagedropSystem

/// `GET …/images/v1/stats`: how many images the account holds and may hold (`result.count.current` and
/// `result.count.allowed`). Numbers the API sends as JSON numbers; a reply without them decodes to nil.
package struct ImageStats: Decodable, Sendable, Equatable {
    package var allowed: Int
    package var current: Int

    package init(allowed: Int, current: Int) {
        self.allowed = allowed
        self.current = current
    }

    private enum CodingKeys: String, CodingKey { case count }
    private enum CountKeys: String, CodingKey { case allowed, current }

    package init(from decoder: Decoder) throws {
        let count = try decoder.container(keyedBy: CodingKeys.self).nestedContainer(
            keyedBy: CountKeys.self, forKey: .count)
        allowed = try count.decode(Int.self, forKey: .allowed)
        current = try count.decode(Int.self, forKey: .current)
    }

    /// The stats in a reply to the stats route, when it holds them.
    package static func read(_ reply: ImagesClient.Reply) -> ImageStats? {
        guard case .success = reply.classification, let body = reply.response?.body else { return nil }
        return EnvelopeDecoder.decode(ImageStats.self, from: body)?.result
    }
}
