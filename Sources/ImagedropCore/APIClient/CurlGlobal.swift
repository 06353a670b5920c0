import CCurl
import Glibc

/// Process-wide libcurl state: `curl_global_init` once, before any worker starts, and one share handle
/// through which every worker's easy handle uses the same DNS cache and TLS session cache.
public final class CurlGlobal: @unchecked Sendable {
    // @unchecked: `share` is written once in init and only used through libcurl, which serialises access
    // with the lock callbacks below (one pthread mutex per curl_lock_data kind).
    public static let shared = CurlGlobal()

    let share: UnsafeMutableRawPointer?
    private let locks: UnsafeMutablePointer<pthread_mutex_t>
    private static let lockCount = 10

    private init() {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
        locks = .allocate(capacity: Self.lockCount)
        for index in 0..<Self.lockCount { pthread_mutex_init(locks + index, nil) }
        share = curl_share_init()
        if let share {
            _ = imagedrop_share_setopt_lock(share) { _, data, _, user in
                guard let user else { return }
                let locks = user.assumingMemoryBound(to: pthread_mutex_t.self)
                pthread_mutex_lock(locks + Int(data.rawValue) % CurlGlobal.lockCount)
            }
            _ = imagedrop_share_setopt_unlock(share) { _, data, user in
                guard let user else { return }
                let locks = user.assumingMemoryBound(to: pthread_mutex_t.self)
                pthread_mutex_unlock(locks + Int(data.rawValue) % CurlGlobal.lockCount)
            }
            _ = imagedrop_share_setopt_pointer_userdata(share, UnsafeMutableRawPointer(locks))
            _ = imagedrop_share_setopt_long(share, CURLSHOPT_SHARE, Int(CURL_LOCK_DATA_DNS.rawValue))
            _ = imagedrop_share_setopt_long(share, CURLSHOPT_SHARE, Int(CURL_LOCK_DATA_SSL_SESSION.rawValue))
        }
    }

    /// Forces initialisation from the main thread before workers exist.
    public static func initialize() { _ = shared }
}
