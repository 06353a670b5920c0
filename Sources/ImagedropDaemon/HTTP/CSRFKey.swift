import ImagedropParsing
import ImagedropSupport

/// The status page's CSRF key: 32 random bytes drawn at start, never written anywhere, so a restart invalidates
/// every token handed out before it. Signs with libcrypto's HMAC-SHA256 for `CSRFToken`.
package struct CSRFKey: Sendable {
    private let bytes: [UInt8]

    package init(bytes: [UInt8]) { self.bytes = bytes }

    /// From the system's generator (getrandom on Linux).
    package static func random() -> CSRFKey {
        var generator = SystemRandomNumberGenerator()
        return CSRFKey(bytes: (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    package var sign: CSRFToken.Sign {
        let key = bytes
        return { message in HMACSHA256.hex(key: key, message: Array(message.utf8)) }
    }

    /// A token for one page load: the time and a fresh nonce, so two loads in the same second differ.
    package func issue(nowSeconds: Int64) -> String {
        var generator = SystemRandomNumberGenerator()
        let nonce = String(generator.next(), radix: 16).leftPadded(to: 16)
        return CSRFToken.issue(nowSeconds: nowSeconds, nonce: nonce, sign: sign)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
