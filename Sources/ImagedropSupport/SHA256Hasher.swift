import COpenSSL

/// Incremental SHA-256 over OpenSSL's EVP interface (libcrypto is already on the host: libcurl links it).
/// Owned C context, freed in deinit; not shared between threads.
package final class SHA256Hasher {
    private let context: OpaquePointer

    /// The provider's SHA-256, fetched once. `EVP_sha256()` is a legacy handle that OpenSSL 3 looks up in its
    /// provider store again on every `EVP_DigestInit_ex` (a lock and a property query): 1.9 % of a small
    /// upload's CPU went to the two inits per file (docs/benchmarks.md, sixth round). Never freed: it lives as
    /// long as the process, like OpenSSL's own store. Falls back to the legacy handle if the fetch fails.
    private nonisolated(unsafe) static let digest: OpaquePointer? = EVP_MD_fetch(nil, "SHA256", nil)

    package init() {
        guard let context = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new failed: out of memory") }
        self.context = context
        Self.start(context)
    }

    private static func start(_ context: OpaquePointer) {
        if let digest { EVP_DigestInit_ex(context, digest, nil) } else { EVP_DigestInit_ex(context, EVP_sha256(), nil) }
    }

    deinit { EVP_MD_CTX_free(context) }

    package func update(_ buffer: UnsafeRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        EVP_DigestUpdate(context, base, buffer.count)
    }

    package func update(_ bytes: some Sequence<UInt8>) {
        let array = Array(bytes)
        array.withUnsafeBytes { update($0) }
    }

    /// Finishes the digest and returns it as 64 lowercase hex digits. The hasher is reset for reuse.
    package func finalizeHex() -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &digest, &length)
        Self.start(context)
        return Hex.encode(digest[0..<Int(length)])
    }

    package static func hex(of bytes: some Sequence<UInt8>) -> String {
        let hasher = SHA256Hasher()
        hasher.update(bytes)
        return hasher.finalizeHex()
    }
}

@available(*, unavailable)
extension SHA256Hasher: Sendable {}

package enum Hex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    package static func encode(_ bytes: some Collection<UInt8>) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
