import COpenSSL

/// HMAC-SHA256 (RFC 2104) through libcrypto's one-shot `HMAC`: webhook bodies are signed with it, and receivers
/// check `X-Imagedrop-Signature: sha256=<hex>` with the same shared secret.
package enum HMACSHA256 {
    package static func hex(key: [UInt8], message: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        // Empty arrays may have no storage: give libcrypto a real (unread) byte to point at.
        let keyBytes = key.isEmpty ? [0] : key
        let messageBytes = message.isEmpty ? [0] : message
        keyBytes.withUnsafeBufferPointer { keyBuffer in
            messageBytes.withUnsafeBufferPointer { messageBuffer in
                _ = HMAC(
                    EVP_sha256(), keyBuffer.baseAddress, Int32(key.count), messageBuffer.baseAddress, message.count,
                    &digest, &length)
            }
        }
        return Hex.encode(digest[0..<Int(length)])
    }
}
