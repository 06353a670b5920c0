/// The token the status page puts in its forms, new on every page load: `ISSUED.NONCE.MAC`, where `ISSUED` is
/// the issue time in Unix seconds, `NONCE` 16 random hex digits and `MAC` the hex HMAC-SHA256 of `ISSUED.NONCE`
/// under a key drawn at start and never shown. Nothing is stored: any token this process signed within the
/// lifetime is good, a token from an earlier process (another key), an old one or an altered one is not.
///
/// The MAC itself is computed by the `sign` function the caller passes (libcrypto's HMAC in the daemon), so this
/// file needs no crypto library.
package enum CSRFToken {
    /// The page reloads itself every 10 s, so a live page always holds a fresh token; a form left open this
    /// long is refused and the operator reloads.
    package static let lifetimeSeconds: Int64 = 15 * 60
    /// A token stamped this far ahead of the clock is still taken (the wall clock may step back a little).
    package static let clockSlackSeconds: Int64 = 60

    /// The message signed, the hex MAC returned.
    package typealias Sign = @Sendable (String) -> String

    package static func issue(nowSeconds: Int64, nonce: String, sign: Sign) -> String {
        let message = "\(nowSeconds).\(nonce)"
        return message + "." + sign(message)
    }

    package static func verify(_ token: String, nowSeconds: Int64, sign: Sign) -> Bool {
        let parts = token.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3 else { return false }
        let issuedText = parts[0]
        let nonce = parts[1]
        let mac = parts[2]
        // Twelve digits reach the year 33658, and cannot overflow.
        guard (1...12).contains(issuedText.count), issuedText.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            (1...64).contains(nonce.count), nonce.allSatisfy(isLowerHex),
            mac.count == 64, mac.allSatisfy(isLowerHex)
        else { return false }
        let issued = issuedText.reduce(Int64(0)) { $0 * 10 + Int64($1 - 0x30) }
        let age = nowSeconds.subtractingReportingOverflow(issued)
        guard !age.overflow, age.partialValue >= -clockSlackSeconds, age.partialValue <= lifetimeSeconds else {
            return false
        }
        let expected = sign(String(decoding: issuedText, as: UTF8.self) + "." + String(decoding: nonce, as: UTF8.self))
        return ConstantTime.equal(Array(mac), Array(expected.utf8))
    }

    /// From the `X-Imagedrop-CSRF` header, else the form field `csrf` of the body (the page's forms post
    /// `application/x-www-form-urlencoded`; the token's characters need no decoding).
    package static func find(headers: [(String, String)], body: [UInt8]) -> String? {
        if let header = headers.first(where: { HeaderFields.nameIs($0.0, "x-imagedrop-csrf") }) { return header.1 }
        for field in body.split(separator: UInt8(ascii: "&")) where field.starts(with: "csrf=".utf8) {
            return String(decoding: field.dropFirst(5), as: UTF8.self)
        }
        return nil
    }

    private static func isLowerHex(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte)
    }
}
