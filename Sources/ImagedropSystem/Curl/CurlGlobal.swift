import CCurl
import Glibc

/// Process-wide libcurl state: `curl_global_init` once, before any worker starts, and one share handle
/// through which every worker's easy handle uses the same DNS cache and TLS session cache.
package final class CurlGlobal: @unchecked Sendable {
    // @unchecked: `share` and `initFailure` are written once in init and only read after; `share` is used
    // through libcurl, which serialises access with the lock callbacks below (one pthread mutex per
    // curl_lock_data kind: libcurl's own lock protocol, not one of imagedrop's synchronisation tools).
    package static let shared = CurlGlobal()

    package let share: UnsafeMutableRawPointer?
    /// curl_global_init refused (out of memory, the TLS library would not start): no request can be made.
    package let initFailure: CurlError?
    private let locks: UnsafeMutablePointer<pthread_mutex_t>
    private static let lockCount = 10

    private init() {
        let initialised = curl_global_init(Int(CURL_GLOBAL_DEFAULT))
        initFailure = initialised == CURLE_OK ? nil : CurlError(initialised, detail: "curl_global_init")
        locks = .allocate(capacity: Self.lockCount)
        for index in 0..<Self.lockCount { pthread_mutex_init(locks + index, nil) }
        share = initFailure == nil ? Self.makeShare(locks: locks) : nil
    }

    /// The shared DNS and TLS session caches, or nil when libcurl refuses any part of the set-up: each easy
    /// handle then keeps its own caches, which costs a lookup and a handshake per worker, nothing more.
    private static func makeShare(locks: UnsafeMutablePointer<pthread_mutex_t>) -> UnsafeMutableRawPointer? {
        guard let share = curl_share_init() else { return nil }
        let results = [
            imagedrop_share_setopt_lock(share) { _, data, _, user in
                guard let user else { return }
                let locks = user.assumingMemoryBound(to: pthread_mutex_t.self)
                pthread_mutex_lock(locks + Int(data.rawValue) % CurlGlobal.lockCount)
            },
            imagedrop_share_setopt_unlock(share) { _, data, user in
                guard let user else { return }
                let locks = user.assumingMemoryBound(to: pthread_mutex_t.self)
                pthread_mutex_unlock(locks + Int(data.rawValue) % CurlGlobal.lockCount)
            },
            imagedrop_share_setopt_pointer_userdata(share, UnsafeMutableRawPointer(locks)),
            imagedrop_share_setopt_long(share, CURLSHOPT_SHARE, Int(CURL_LOCK_DATA_DNS.rawValue)),
            imagedrop_share_setopt_long(share, CURLSHOPT_SHARE, Int(CURL_LOCK_DATA_SSL_SESSION.rawValue)),
        ]
        guard results.allSatisfy({ $0 == CURLSHE_OK }) else {
            curl_share_cleanup(share)
            return nil
        }
        return share
    }

    /// Forces initialisation from the main thread before workers exist; throws when libcurl cannot start.
    package static func initialize() throws(CurlError) {
        if let failure = shared.initFailure { throw failure }
    }
}
