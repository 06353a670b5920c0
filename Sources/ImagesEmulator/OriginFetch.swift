import Foundation
import ImagedropSupport
import NIOCore
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What the origin answered for a `url` upload: the image's bytes (then validated exactly like a `file`
/// part), or the API's refusal for an origin that failed.
struct FetchedImage: Sendable {
    var bytes: [UInt8]
    var filename: String?

    /// The bytes as if they had arrived as the form's `file` part: hashed, probed, kept if bytes are stored.
    func received(storeBytes: Bool) -> ReceivedFile {
        var file = ReceivedFile(filename: filename, size: bytes.count, sha256: SHA256Hasher.hex(of: bytes))
        bytes.withUnsafeBytes { file.probe.feed($0) }
        if storeBytes { file.bytes = ByteBuffer(bytes: bytes) }
        return file
    }
}

/// Fetches `url` uploads the way Cloudflare does: GET from the origin, basic-auth credentials in the URL sent
/// as `Authorization: Basic`, a time limit, the file size limit. Only loopback origins unless remote fetches
/// were allowed: an emulator must never reach the internet by accident (tests run offline).
enum OriginFetch {
    static func fetch(
        _ text: String, configuration: EmulatorConfiguration,
        completion: @escaping @Sendable (Result<FetchedImage, APIError>) -> Void
    ) {
        guard var components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else { return completion(.failure(failed("the url is not a valid http or https URL"))) }
        guard configuration.allowRemoteFetch || isLoopback(host) else {
            return completion(
                .failure(failed("the emulator fetches only from loopback origins (start it with --allow-remote-fetch)"))
            )
        }
        var authorization: String?
        if let user = components.user {
            let credentials =
                (user.removingPercentEncoding ?? user) + ":"
                + ((components.password ?? "").removingPercentEncoding ?? "")
            authorization = "Basic " + Data(credentials.utf8).base64EncodedString()
            components.user = nil
            components.password = nil
        }
        let maxBytes = configuration.maxUploadBytes
        let timeout = configuration.fetchTimeoutMillis
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        let filename = path.split(separator: "/").last.map { String($0).removingPercentEncoding ?? String($0) }
        if scheme == "https" {
            return fetchTLS(
                components, authorization: authorization, filename: filename, timeoutMillis: timeout,
                maxBytes: maxBytes, completion: completion)
        }
        let target = path + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
        let port = components.port ?? 80
        let headers =
            ["User-Agent: imagedrop-emulator (Cloudflare Images url fetch)"]
            + (authorization.map { ["Authorization: \($0)"] } ?? [])
        let bareHost = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let hostHeader =
            (bareHost.contains(":") ? "[\(bareHost)]" : bareHost) + (components.port.map { ":\($0)" } ?? "")
        // Blocking sockets, so off the event loop: a slow origin must not stall other connections.
        DispatchQueue.global().async {
            switch OriginHTTP.get(
                host: bareHost, hostHeader: hostHeader, port: port, target: target, headers: headers,
                timeoutMillis: timeout, maxBodyBytes: maxBytes)
            {
            case .success(let response):
                guard (200..<300).contains(response.status) else {
                    return completion(.failure(failed("the origin answered HTTP \(response.status)")))
                }
                completion(.success(FetchedImage(bytes: response.body, filename: filename)))
            case .failure(.tooLarge): completion(.failure(.originTooLarge))
            case .failure(.timedOut): completion(.failure(failed("the origin did not answer in time")))
            case .failure(.unreachable): completion(.failure(failed("the origin could not be reached")))
            case .failure(.malformed): completion(.failure(failed("the origin's reply was not HTTP")))
            }
        }
    }

    /// https origins (only reachable with --allow-remote-fetch, or a loopback TLS origin) go through
    /// URLSession, under the same deadline.
    private static func fetchTLS(
        _ components: URLComponents, authorization: String?, filename: String?, timeoutMillis: Int,
        maxBytes: Int, completion: @escaping @Sendable (Result<FetchedImage, APIError>) -> Void
    ) {
        guard let url = components.url else { return completion(.failure(failed("the url is not a valid URL"))) }
        var request = URLRequest(url: url, timeoutInterval: Double(timeoutMillis) / 1000)
        if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = Double(timeoutMillis) / 1000
        configuration.timeoutIntervalForResource = Double(timeoutMillis) / 1000
        let session = URLSession(configuration: configuration)
        // URLSession's own timeouts are not trusted to fire on every path (a 401 challenge can stall it on
        // Linux): the deadline answers 5454 itself, and whichever comes first is the answer.
        let once = Mutex(false)
        let complete: @Sendable (Result<FetchedImage, APIError>) -> Void = { result in
            let first = once.withLock { done in
                defer { done = true }
                return !done
            }
            if first { completion(result) }
        }
        let task = session.dataTask(with: request) { data, response, error in
            session.finishTasksAndInvalidate()
            let completion = complete
            if let error {
                let timedOut = (error as? URLError)?.code == .timedOut
                return completion(
                    .failure(failed(timedOut ? "the origin did not answer in time" : "the origin could not be reached"))
                )
            }
            guard let http = response as? HTTPURLResponse else {
                return completion(.failure(failed("the origin's reply was not HTTP")))
            }
            guard (200..<300).contains(http.statusCode) else {
                return completion(.failure(failed("the origin answered HTTP \(http.statusCode)")))
            }
            let bytes = [UInt8](data ?? Data())
            guard bytes.count <= maxBytes else { return completion(.failure(.originTooLarge)) }
            completion(.success(FetchedImage(bytes: bytes, filename: filename)))
        }
        task.resume()
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(timeoutMillis + 500)) {
            task.cancel()
            complete(.failure(failed("the origin did not answer in time")))
        }
    }

    /// Never quotes the URL: it may hold a password.
    static func failed(_ reason: String) -> APIError {
        APIError(
            status: .unprocessableEntity, code: 5454,
            message: "ERROR 5454: Failed to fetch the image from the url: \(reason)")
    }

    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        if bare == "localhost" || bare.hasSuffix(".localhost") || bare == "::1" { return true }
        let octets = bare.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}
